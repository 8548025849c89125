/**
 * The tokenizer a model's tokens decode with, from its manifest's `tokenizer` reference.
 * @module
 */
import { PatchKMeansTokenizer } from "../tokenizer/patch_kmeans.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import type { ARModel } from "./ar_model.ts";
import { ManifestError } from "../util/errors.ts";

/**
 * Load the tokenizer named by a model's manifest (`{"kind": "patch-kmeans", "codebook": path}`,
 * the path relative to the manifest), or the codebook given explicitly. A manifest without a
 * tokenizer is an error that names the fix (the CLIs fall back to the emoji fixture codebook
 * themselves; the library never guesses).
 * @example
 * const tok = await loadModelTokenizer(model);
 * const pictures = await tok.decode({ n: 1, height: 24, width: 24, tokens: out.tokens });
 */
export async function loadModelTokenizer(
  model: ARModel,
  codebook?: string | URL,
): Promise<Tokenizer> {
  const m = model.manifest;
  let tok: Tokenizer;
  if (codebook) {
    tok = await PatchKMeansTokenizer.load(
      codebook instanceof URL ? codebook : new URL(codebook, `file://${Deno.cwd()}/`),
    );
  } else if (m.tokenizer?.kind === "patch-kmeans" && m.tokenizer.codebook) {
    tok = await PatchKMeansTokenizer.load(new URL(m.tokenizer.codebook, model.source));
  } else if (m.tokenizer && m.tokenizer.kind !== "patch-kmeans") {
    throw new ManifestError(
      `${m.name}: field "tokenizer.kind" is "${m.tokenizer.kind}", which parlab cannot decode yet. ` +
        "Fix: pass a patch k-means codebook (--codebook) or decode the tokens yourself",
    );
  } else {
    throw new ManifestError(
      `${m.name}: the manifest names no tokenizer (field "tokenizer"). Fix: pass a codebook ` +
        '(--codebook), or add {"kind": "patch-kmeans", "codebook": "<path>"} to the manifest',
    );
  }
  if (tok.vocabSize !== m.vocabSize) {
    throw new ManifestError(
      `${m.name}: the tokenizer has ${tok.vocabSize} codes but the model's vocabulary is ${m.vocabSize}. ` +
        'Fix: set "tokenizer.codebook" in the manifest to the codebook the model was trained on',
    );
  }
  return tok;
}
