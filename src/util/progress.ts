/**
 * Progress bars on stderr for long work (sampling sweeps, dataset builds, all-pairs entropy).
 * On a terminal the bar redraws in place; elsewhere (CI logs) it prints a line every few
 * seconds. Built on cli-progress.
 * @module
 */
import { cliProgress } from "../deps/progress.ts";
import process from "node:process";

/** A started progress bar. */
export interface Progress {
  /** Set the number of finished units (and optionally a status text). */
  update(done: number, status?: string): void;
  /** Finish and release the line. */
  stop(): void;
}

/**
 * Start a progress bar with `total` units.
 * @example
 * const bar = progress("sampling", 147);
 * bar.update(10);
 * bar.stop();
 */
export function progress(
  label: string,
  total: number,
  options: { quiet?: boolean } = {},
): Progress {
  if (options.quiet || Deno.env.get("PARLAB_QUIET") === "1") return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: "{label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {status}",
    noTTYOutput: true,
    notTTYSchedule: 5000,
    hideCursor: false,
    barsize: 30,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { label, status: "" });
  return {
    update(done: number, status = "") {
      bar.update(done, { status });
    },
    stop() {
      bar.stop();
    },
  };
}
