/**
 * Emoji token data: loaders for the committed fixtures (token grids, labels, codebook), the
 * deterministic builder behind `deno task data`, and its picture loading and split; token files
 * and token folders (`deno task tokenize`'s output).
 * @module
 */
export {
  EMOJI_FIXTURE_DIR,
  type EmojiDataset,
  type EmojiManifest,
  EmojiManifestSchema,
  type EmojiSplit,
  loadEmojiDataset,
  loadEmojiManifest,
  loadPatchTokenizer,
} from "./emoji_fixture.ts";
export { buildEmojiFixtures, EMOJI_FIXTURE_FILES, type EmojiBuildOptions } from "./build_emoji.ts";
export {
  DEFAULT_VAL_HASH_FRACTION,
  EMOJI_DATASOURCE_VERSION,
  EMOJI_SETS,
  emojiClassNames,
  type EmojiItem,
  emojiPackageDir,
  type EmojiSet,
  listEmojiItems,
  splitOf,
} from "./emoji_source.ts";
export {
  type LoadedPictures,
  loadPictures,
  pictureToRgb,
  resizeImages,
  type SkippedImage,
} from "./images.ts";
export {
  checkTokenArray,
  labelArray,
  loadLabelFile,
  loadTokenFile,
  loadTokenSet,
  TOKEN_FOLDER_FORMAT,
  type TokenFile,
  type TokenFileExpectation,
  type TokenFolder,
  type TokenFolderManifest,
  TokenFolderManifestSchema,
} from "./token_files.ts";
