/**
 * What the notebooks in `notebooks/` need beyond the library: quick mode from the environment.
 * Inline display (figures, PNG, Markdown) is `parlab/viz` (`src/viz/notebook.ts`).
 * @module
 */

/** True when `PARLAB_QUICK=1` (CI): notebooks then use small sample counts and the val split. */
export function quickMode(): boolean {
  return Deno.env.get("PARLAB_QUICK") === "1";
}
