/**
 * cli-progress (terminal progress bars), pinned.
 * @module
 */
export { default as cliProgress } from "npm:cli-progress@3.12.0";
