/**
 * Emoji token data: loaders for the committed fixtures (token grids, labels, codebook), the
 * deterministic builder behind `deno task data`, and its picture loading and split; the
 * moving-emoji clip fixtures (`deno task data:video`); token files and token folders
 * (`deno task tokenize`'s output).
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
export {
  buildEmojiFixtures,
  EMOJI_FIXTURE_FILES,
  type EmojiBuildOptions,
  listEmojiPictures,
} from "./build_emoji.ts";
export {
  loadVideoDataset,
  loadVideoManifest,
  VIDEO_FIXTURE_DIR,
  VIDEO_FORMAT,
  type VideoDataset,
  type VideoManifest,
  VideoManifestSchema,
  type VideoSplit,
} from "./video_fixture.ts";
export {
  buildVideoFixtures,
  CLIPS_FILE,
  type ClipShowcaseRow,
  EMOJI16_FIXTURE_DIR,
  type EmojiPool,
  emojiPools,
  planClips,
  type PlannedClip,
  type PlannedLayer,
  type RenderedClips,
  renderVideoClips,
  VIDEO_FIXTURE_FILES,
  type VideoBuildOptions,
} from "./build_clips.ts";
export {
  CLIP_GENERATOR,
  type ClipMotion,
  drawClipMotion,
  drawMotion,
  drawSprite,
  insideFrame,
  type Layer,
  type Motion,
  MOTION_CLASSES,
  type MotionClass,
  type Pose,
  posesOf,
  renderClip,
  type Sprite,
  spriteFromRgba,
} from "./clip_motion.ts";
export { loadSprites, pictureToRgba } from "./clip_sprites.ts";
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
