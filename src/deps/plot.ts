/**
 * Observable Plot and the DOM it renders into (linkedom), pinned. Pure JavaScript; only the
 * figure modules import it.
 * @module
 */
export * as Plot from "npm:@observablehq/plot@0.6.17";
export { parseHTML } from "npm:linkedom@0.18.12";
