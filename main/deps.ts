/**
 * What the task entry points import: the public module like any user, plus zod for flags.
 * @module
 */
export * from "../mod.ts";
export { Plot, z } from "../src/deps.ts";
