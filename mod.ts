/**
 * parlab: a toolkit for parallelized autoregressive visual generation (PAR).
 * @module
 */
export * from "./src/schedule/mod.ts";
export * from "./src/viz/mod.ts";
export * from "./src/util/mod.ts";
export * from "./src/model/mod.ts";
export * from "./src/sampler/mod.ts";
export * from "./src/io/mod.ts";
export * from "./src/tokenizer/mod.ts";
export * from "./src/data/mod.ts";
export * from "./src/entropy/mod.ts";
export * from "./src/metrics/mod.ts";
