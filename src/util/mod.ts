/**
 * Small shared utilities: seeded randomness, atomic writes, progress bars, command-line flags and
 * the user-error classes every module throws.
 * @module
 */
export { Rng } from "./rng.ts";
export { writeFileAtomic } from "./atomic.ts";
export { type Progress, progress } from "./progress.ts";
export { flagError, HelpRequested, listFlag, numberFlag, parseFlags, runMain } from "./cli.ts";
export { ConfigError, isUserError, ManifestError, UsageError } from "./errors.ts";
export { checkAllocation, formatBytes, MAX_ALLOCATION_BYTES, MAX_GRID_CELLS } from "./limits.ts";
export { lockFolder, type LockHolder } from "./lock.ts";
export { resolveShard, type Shard, shardFolder, shardRange } from "./shards.ts";
