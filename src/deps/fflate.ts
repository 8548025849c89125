/**
 * fflate (gzip in pure JavaScript), pinned.
 * @module
 */
export { gunzipSync, gzipSync, unzipSync, zipSync } from "npm:fflate@0.8.3";
