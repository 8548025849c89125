/**
 * The tokenizer a model's tokens decode with, from its manifest's `tokenizer` reference.
 * @module
 */
import { PatchKMeansTokenizer } from "../tokenizer/patch_kmeans.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import type { ARModel } from "./ar_model.ts";
import { ManifestError } from "../util/errors.ts";
import { toUrl } from "../io/read.ts";
import {
  type LoadLimits,
  readFileBytes,
  readReferencedFile,
  resolveReference,
} from "../runtime/files.ts";
import { VqTokenizer } from "../tokenizer/vq.ts";
import { referenceLimits } from "./fixtures.ts";

/**
 * Load the tokenizer named by a model's manifest: `{"kind": "patch-kmeans", "codebook": path}`
 * (with an optional `sha256` and `bytes`, checked while the codebook streams in) or
 * `{"kind": "vq", "manifest": path}` (LlamaGen's VQ tokenizer, {@link VqTokenizer}), the path
 * relative to the manifest; or the codebook given explicitly. What the manifest names must lie
 * in its folder (or on its origin) unless `limits.allowOutside`; `limits` default to the ones the
 * model was loaded with. A manifest without a tokenizer is an error that names the fix (the CLIs fall back
 * to the emoji fixture codebook themselves; the library never guesses).
 * @example
 * const tok = await loadModelTokenizer(model);
 * const pictures = await tok.decode({ n: 1, height: 24, width: 24, tokens: out.tokens });
 */
export async function loadModelTokenizer(
  model: ARModel,
  codebook?: string | URL,
  limits: LoadLimits = model.loadLimits ?? {},
): Promise<Tokenizer> {
  const m = model.manifest;
  let tok: Tokenizer;
  if (codebook) {
    const url = toUrl(codebook);
    const bytes = await readFileBytes(url, limits);
    tok = PatchKMeansTokenizer.fromBytes(bytes, String(codebook), limits.maxBytes);
  } else if (m.tokenizer?.kind === "patch-kmeans" && m.tokenizer.codebook) {
    const bytes = await readReferencedFile(model.source, {
      file: m.tokenizer.codebook,
      field: "tokenizer.codebook",
      sha256: m.tokenizer.sha256,
      bytes: m.tokenizer.bytes,
      fix: "the codebook is not the one the manifest names; fetch the right one or re-export",
    }, referenceLimits(model.source, limits));
    tok = PatchKMeansTokenizer.fromBytes(bytes, m.tokenizer.codebook, limits.maxBytes);
  } else if (m.tokenizer?.kind === "vq") {
    const manifest = (m.tokenizer as { manifest?: unknown }).manifest;
    if (typeof manifest !== "string" || manifest === "") {
      throw new ManifestError(
        `${m.name}: field "tokenizer.manifest" is missing: a vq tokenizer is named by its ` +
          "tokenizer manifest (.tokenizer.json). Fix: convert the model with --vq-checkpoint, " +
          'or set {"kind": "vq", "manifest": "<path>"}',
      );
    }
    const url = resolveReference(
      model.source,
      { file: manifest, field: "tokenizer.manifest" },
      referenceLimits(model.source, limits),
    );
    tok = await VqTokenizer.load(url, limits);
  } else if (m.tokenizer) {
    throw new ManifestError(
      `${m.name}: field "tokenizer.kind" is "${m.tokenizer.kind}", which parlab does not know ` +
        '(it decodes "patch-kmeans" and "vq"). Fix: pass a patch k-means codebook (--codebook), ' +
        "or decode the tokens yourself",
    );
  } else {
    throw new ManifestError(
      `${m.name}: the manifest names no tokenizer (field "tokenizer"). Fix: pass a codebook ` +
        '(--codebook), or add {"kind": "patch-kmeans", "codebook": "<path>"} or {"kind": "vq", "manifest": "<path>"} ' +
        "to the manifest",
    );
  }
  if (tok.vocabSize !== m.vocabSize) {
    throw new ManifestError(
      `${m.name}: the tokenizer has ${tok.vocabSize} codes but the model's vocabulary is ${m.vocabSize}. ` +
        "Fix: point the manifest's tokenizer at the one the model was trained with",
    );
  }
  return tok;
}
