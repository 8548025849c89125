// Prints the TypeScript schedules and slot layouts as JSON for python/tests/test_schedule_ts.py.
import { makeGrid, scheduleByName, scheduleToJSON, stepSlots } from "../../mod.ts";

const { grids, names } = JSON.parse(Deno.args[0]) as { grids: [number, number][]; names: string[] };
const out: Record<string, unknown> = {};
for (const [h, w] of grids) {
  for (const name of names) {
    const s = scheduleByName(makeGrid(h, w), name);
    out[`${h}x${w}:${name}`] = { schedule: JSON.parse(scheduleToJSON(s)), slots: stepSlots(s) };
  }
}
console.log(JSON.stringify(out));
