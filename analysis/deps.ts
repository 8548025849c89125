/**
 * What the analysis code imports: every concept module (analysis sits above all of them), plus
 * zod and Plot.
 * @module
 */
export * from "../src/media/mod.ts";
export * from "../src/schedule/mod.ts";
export * from "../src/tokenizer/mod.ts";
export * from "../src/runtime/mod.ts";
export * from "../src/model/mod.ts";
export * from "../src/sampler/mod.ts";
export * from "../src/entropy/mod.ts";
export * from "../src/metrics/mod.ts";
export * from "../src/viz/mod.ts";
export * from "../src/data/mod.ts";
export * from "../src/io/mod.ts";
export * from "../src/util/mod.ts";
export { z } from "../src/deps/zod.ts";
export { Plot } from "../src/deps/plot.ts";
