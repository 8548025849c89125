/**
 * The tokenizer the programs decode a model's tokens with: the one its manifest names (or
 * `--codebook`), and for a manifest that names none, the emoji fixture codebook when the
 * vocabulary sizes agree. The fallback is a program's convenience; the library never guesses.
 * @module
 */
import { loadPatchTokenizer } from "../src/data/emoji_fixture.ts";
import type { ARModel } from "../src/model/ar_model.ts";
import { loadModelTokenizer } from "../src/model/tokenizer.ts";
import type { Tokenizer } from "../src/tokenizer/types.ts";

/** The model's tokenizer, or the emoji fixture codebook for a manifest without one. */
export async function programTokenizer(
  model: ARModel,
  codebook?: string | URL,
): Promise<Tokenizer> {
  if (codebook || model.manifest.tokenizer) return await loadModelTokenizer(model, codebook);
  const emoji = await loadPatchTokenizer();
  if (emoji.vocabSize === model.manifest.vocabSize) return emoji;
  return await loadModelTokenizer(model); // throws: names the missing field and the fix
}
