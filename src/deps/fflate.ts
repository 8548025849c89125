/**
 * fflate (gzip in pure JavaScript), pinned.
 * @module
 */
export { gunzipSync, gzipSync } from "npm:fflate@0.8.3";
