/**
 * What the programs import: everything the analysis layer sees (every concept module, zod and
 * Plot; `analysis/deps.ts`). The programs sit above analysis, so they share its import list.
 * @module
 */
export * from "../analysis/deps.ts";
