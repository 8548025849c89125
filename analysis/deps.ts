/**
 * What the analysis code imports: the public module like any user, plus zod for flags.
 * @module
 */
export * from "../mod.ts";
export { Plot, z } from "../src/deps.ts";
