/**
 * sharp (libvips: PNG encode/decode, resize, SVG rasterising), pinned and loaded on first use:
 * its native library needs `--allow-ffi`, which code that only builds schedules or probes token
 * data should not have to grant.
 * @module
 */
import { importNative } from "./_native.ts";

/** The sharp function. */
export type Sharp = typeof import("npm:sharp@0.35.5").default;

let sharpPromise: Promise<Sharp> | undefined;

/** sharp, imported on the first call (a missing permission names the flags to add). */
export function loadSharp(): Promise<Sharp> {
  return sharpPromise ??= importNative(
    "sharp (image encoding)",
    "--allow-ffi --allow-env --allow-read --allow-sys",
    // A full specifier on purpose: URL importers have no import map.
    // deno-lint-ignore no-import-prefix
    async () => (await import("npm:sharp@0.35.5")).default,
  ).catch((err) => {
    sharpPromise = undefined; // let a later call retry (e.g. after a permission prompt)
    throw err;
  });
}
