/**
 * Small shared utilities: seeded randomness and atomic writes.
 * @module
 */
export { Rng } from "./rng.ts";
export { writeFileAtomic } from "./atomic.ts";
export { type Progress, progress } from "./progress.ts";
export { flagError, isUserError, numberFlag, parseFlags, runMain, UsageError } from "./cli.ts";
