/**
 * ndarray (strided n-dimensional views over typed arrays), pinned.
 * @module
 */
export { default as ndarray } from "npm:ndarray@1.1.1";
export type { NdArray } from "npm:ndarray@1.1.1";
