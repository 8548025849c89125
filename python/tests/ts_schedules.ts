// Prints the TypeScript schedules and slot layouts as JSON for python/tests/test_schedule_ts.py.
import { makeGrid, scheduleByName, scheduleToJSON, stepSlots } from "../../mod.ts";

// A grid is [height, width] (key "HxW") or [height, width, frames] for video (key "FxHxW").
const { grids, names } = JSON.parse(Deno.args[0]) as { grids: number[][]; names: string[] };
const out: Record<string, unknown> = {};
for (const [h, w, f] of grids) {
  for (const name of names) {
    const s = scheduleByName(makeGrid(h, w, f ?? 1), name);
    const key = f === undefined ? `${h}x${w}` : `${f}x${h}x${w}`;
    out[`${key}:${name}`] = { schedule: JSON.parse(scheduleToJSON(s)), slots: stepSlots(s) };
  }
}
console.log(JSON.stringify(out));
