/**
 * The official cfg-interval rule (PAR's / LlamaGen's `generate`) against python/sampler.py's
 * reimplementation (tests/golden/cfg_official.json, written from it), and the sampler using it.
 */
import { assertEquals } from "./assert.ts";
import { makeGrid } from "../src/media/grid.ts";
import { scheduleByName } from "../src/schedule/registry.ts";
import { guidedSteps } from "../src/sampler/settings.ts";
import { sample } from "../src/sampler/sampler.ts";
import { loadOnnxModel } from "../src/model/onnx_node.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("./golden/cfg_official.json", import.meta.url)),
);

Deno.test("official cfg-interval rule: the guided steps python/sampler.py computes", () => {
  const grid = makeGrid(24, 24);
  for (const c of golden.cases) {
    const schedule = scheduleByName(grid, c.schedule);
    const interval = c.cfgInterval === null || c.cfgInterval < 0 ? null : c.cfgInterval;
    const on = guidedSteps(schedule.steps, {
      cfgScale: 1.5,
      cfgInterval: interval,
      cfgIntervalRule: "official",
    });
    const got = on.flatMap((v, s) => (v ? [s] : []));
    assertEquals(got, c.guidedSteps, `${c.schedule}, cfgInterval ${c.cfgInterval}`);
  }
  // PAR-4x, interval 1: the prefill, the two sequential steps with i <= 1, the first parallel step.
  const par4 = scheduleByName(grid, "par4");
  const on = guidedSteps(par4.steps, { cfgScale: 2, cfgInterval: 1, cfgIntervalRule: "official" });
  assertEquals(on.flatMap((v, s) => (v ? [s] : [])), [0, 1, 2, 4]);
  // No guidance at all at scale 1, whatever the rule.
  assertEquals(
    guidedSteps(par4.steps, { cfgScale: 1, cfgInterval: null, cfgIntervalRule: "steps" })
      .some(Boolean),
    false,
  );
});

Deno.test("official cfg-interval rule: the sampler follows it (steps 0-2 guided, as under the steps rule)", async () => {
  const model = await loadOnnxModel(new URL("../fixtures/models/tiny-par4.json", import.meta.url));
  try {
    const schedule = scheduleByName(model.manifest.grid, "par4");
    const base = { schedule, classes: [1], seed: 3, cfgScale: 2 };
    const official = await sample(model, {
      ...base,
      cfgInterval: 1,
      cfgIntervalRule: "official",
    });
    // Steps 0, 1, 2 and 4 guided = the steps rule with guidance on steps < 3, except step 4.
    const steps = await sample(model, { ...base, cfgInterval: 3, cfgIntervalRule: "steps" });
    const order = schedule.steps.flatMap((s) => s.cells);
    const firstFour = order.slice(0, 3);
    for (const c of firstFour) assertEquals(official.tokens[c], steps.tokens[c]);
  } finally {
    await model.dispose();
  }
});
