/**
 * Tokenizers: pictures <-> token grids. The {@link Tokenizer} interface, the patch k-means
 * implementation, its k-means and nearest-code search, codebook clustering (coarse code groups
 * for the entropy probes and the token-pair metrics), and PSNR.
 * @module
 */
export type { Tokenizer } from "./types.ts";
export { PatchKMeansTokenizer, samplePatches } from "./patch_kmeans.ts";
export type { PatchKMeansTrainOptions } from "./patch_kmeans.ts";
export { kmeans } from "./kmeans.ts";
export type { KMeansOptions, KMeansResult } from "./kmeans.ts";
export { nearestBruteForce, NearestCodeIndex } from "./nearest.ts";
export { clusterCodebook } from "./clusters.ts";
export type { CodebookClusterOptions, CodebookClusters } from "./clusters.ts";
export { psnrOf } from "./quality.ts";
export type { PsnrResult } from "./quality.ts";
export {
  parseVqManifest,
  type VqLoadOptions,
  type VqManifest,
  VqManifestSchema,
  VqTokenizer,
} from "./vq.ts";
