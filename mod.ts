/**
 * parlab: a toolkit for parallelized autoregressive visual generation (PAR).
 * @module
 */
export * from "./src/schedule/mod.ts";
