/**
 * ml-matrix (symmetric eigendecomposition for the Fréchet distance), pinned.
 * @module
 */
export { EigenvalueDecomposition, Matrix } from "npm:ml-matrix@6.15.1";
