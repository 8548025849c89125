import { assert, assertEquals, assertThrows } from "./assert.ts";
import { cellCoords, cellCount, makeGrid } from "../src/media/mod.ts";
import {
  custom,
  par,
  parWithoutInitial,
  randomGroups,
  raster,
  rasterGroups,
  registerScheduleFamily,
  type Schedule,
  scheduleByName,
  scheduleFromJSON,
  scheduleNameExamples,
  scheduleOrder,
  scheduleToJSON,
  stepSlots,
} from "../src/schedule/mod.ts";
import { ConfigError } from "../src/util/mod.ts";

const image = makeGrid(24, 24);
const video = makeGrid(16, 16, 5);

function assertExactlyOnce(s: Schedule): void {
  const order = scheduleOrder(s);
  assertEquals(order.length, cellCount(s.grid));
  assertEquals([...order].sort((a, b) => a - b), Array.from({ length: order.length }, (_, i) => i));
}

Deno.test("step counts match the paper on 24x24", () => {
  assertEquals(raster(image).steps.length, 576);
  assertEquals(par(image, { m: 2 }).steps.length, 147);
  assertEquals(par(image, { m: 4 }).steps.length, 51);
  assertEquals(rasterGroups(image, { n: 4 }).steps.length, 147);
  assertEquals(parWithoutInitial(image, { m: 2 }).steps.length, 144);
});

Deno.test("step counts on a 5x16x16 video grid: 1280 / 323 / 95", () => {
  assertEquals(raster(video).steps.length, 1280);
  assertEquals(par(video, { m: 2 }).steps.length, 323);
  assertEquals(par(video, { m: 4 }).steps.length, 95);
});

Deno.test("every builder covers every cell exactly once", () => {
  for (const g of [image, video, makeGrid(6, 10)]) {
    assertExactlyOnce(raster(g));
    assertExactlyOnce(par(g, { m: 2 }));
    assertExactlyOnce(parWithoutInitial(g, { m: 2 }));
    assertExactlyOnce(rasterGroups(g, { n: 4 }));
    assertExactlyOnce(rasterGroups(g, { n: 7 }));
    assertExactlyOnce(randomGroups(g, { n: 4, seed: 3 }));
  }
  assertExactlyOnce(par(image, { m: 4 }));
  assertExactlyOnce(par(video, { m: 4 }));
});

Deno.test("PAR groups are region-aligned: one cell per region, same in-region position", () => {
  for (
    const [g, m] of [[image, 2], [image, 4], [video, 2], [video, 4], [makeGrid(6, 10), 2]] as const
  ) {
    const s = par(g, { m });
    const n = m * m;
    const rh = g.height / m;
    const rw = g.width / m;
    const locate = (cell: number) => {
      const { frame, row, col } = cellCoords(g, cell);
      return {
        region: Math.floor(row / rh) * m + Math.floor(col / rw),
        pos: `${frame},${row % rh},${col % rw}`,
      };
    };
    // Initial steps: the first cell of each region, regions in raster order.
    for (let r = 0; r < n; r++) {
      assertEquals(s.steps[r].cells.length, 1);
      assertEquals(locate(s.steps[r].cells[0]), { region: r, pos: "0,0,0" });
    }
    for (const step of s.steps.slice(n)) {
      assertEquals(step.cells.length, n);
      const where = step.cells.map(locate);
      assertEquals(where.map((w) => w.region), Array.from({ length: n }, (_, i) => i));
      assertEquals(new Set(where.map((w) => w.pos)).size, 1);
    }
  }
});

Deno.test("PAR video: regions span frames, frame-major inside a region", () => {
  const s = par(video, { m: 2 });
  // Step 4 (first group) samples in-region position 1: frame 0, row 0, col 1 of every region.
  assertEquals(s.steps[4].cells.map((c) => cellCoords(video, c)), [
    { frame: 0, row: 0, col: 1 },
    { frame: 0, row: 0, col: 9 },
    { frame: 0, row: 8, col: 1 },
    { frame: 0, row: 8, col: 9 },
  ]);
  // The last step samples the last cell of every region in the last frame.
  assertEquals(cellCoords(video, s.steps.at(-1)!.cells[0]), { frame: 4, row: 7, col: 7 });
});

Deno.test("raster groups are consecutive raster cells", () => {
  const s = rasterGroups(image, { n: 4 });
  assertEquals(s.steps.slice(0, 4).map((st) => st.cells), [[0], [1], [2], [3]]);
  assertEquals(s.steps[4].cells, [4, 5, 6, 7]);
  assertEquals(s.steps.at(-1)!.cells, [572, 573, 574, 575]);
  assertEquals(rasterGroups(image, { n: 4, initial: false }).steps.length, 144);
});

Deno.test("slot layout: class slot, transition slots before the first parallel step", () => {
  const s = par(image, { m: 2 });
  const slots = stepSlots(s);
  assertEquals(s.transitionSlots, 3);
  assertEquals(slots[0], [{ kind: "class", cell: -1, transition: 0 }]);
  assertEquals(slots[1], [{ kind: "cell", cell: s.steps[0].cells[0], transition: 0 }]);
  assertEquals(slots[4].map((x) => [x.kind, x.transition]), [
    ["cell", 0],
    ["transition", 1],
    ["transition", 2],
    ["transition", 3],
  ]);
  assertEquals(slots[5].map((x) => x.cell), s.steps[4].cells);
  // The whole sequence is as long as the image (PAR.md section 3).
  assertEquals(slots.reduce((a, x) => a + x.length, 0), 576);
  const noinit = stepSlots(parWithoutInitial(image, { m: 2 }));
  assertEquals(noinit[0].map((x) => x.kind), ["class", "transition", "transition", "transition"]);
  assertEquals(raster(image).transitionSlots, 0);
  assertEquals(stepSlots(raster(image)).every((x) => x.length === 1), true);
});

Deno.test("attention inside steps: full for PAR, causal for the ablation and raster", () => {
  assert(par(image, { m: 2 }).steps.every((s) => s.attention === "full"));
  assert(par(image, { m: 2, attention: "causal" }).steps.every((s) => s.attention === "causal"));
  assertEquals(par(image, { m: 2, attention: "causal" }).name, "par4-causal");
  assert(raster(image).steps.every((s) => s.attention === "causal"));
});

Deno.test("JSON round-trip keeps every field", () => {
  for (
    const s of [
      raster(image),
      par(image, { m: 4 }),
      par(video, { m: 2 }),
      rasterGroups(image, { n: 4 }),
    ]
  ) {
    const back = scheduleFromJSON(scheduleToJSON(s));
    assertEquals(back, s);
    assertEquals(scheduleToJSON(back), scheduleToJSON(s));
  }
});

Deno.test("names build the model configurations' schedules", () => {
  assertEquals(scheduleByName(image, "raster").steps.length, 576);
  assertEquals(scheduleByName(image, "par4"), par(image, { m: 2 }));
  assertEquals(scheduleByName(image, "par16"), par(image, { m: 4 }));
  assertEquals(scheduleByName(image, "raster4"), rasterGroups(image, { n: 4 }));
  assertEquals(scheduleByName(image, "par4-causal"), par(image, { m: 2, attention: "causal" }));
  assertEquals(scheduleByName(image, "par4-noinit"), parWithoutInitial(image, { m: 2 }));
  assertEquals(scheduleByName(image, "random4-s7"), randomGroups(image, { n: 4, seed: 7 }));
  assertEquals(randomGroups(image, { n: 4, seed: 7 }), randomGroups(image, { n: 4, seed: 7 }));
});

function assertConfigError(fn: () => unknown, field: string, includes: string): void {
  const err = assertThrows(fn, ConfigError);
  assertEquals(err.field, field);
  assert(err.message.includes(includes), `message "${err.message}" lacks "${includes}"`);
  assert(err.message.includes("Fix:"), `message "${err.message}" gives no fix`);
}

Deno.test("bad configs fail naming the field and the fix", () => {
  assertConfigError(() => par(image, { m: 5 }), "m", "does not divide");
  assertConfigError(() => par(makeGrid(24, 20), { m: 3 }), "m", "does not divide");
  assertConfigError(() => par(image, { m: 0 }), "m", "positive integer");
  assertConfigError(() => par(image, { m: 1.5 }), "m", "positive integer");
  assertConfigError(() => parWithoutInitial(image, { m: 7 }), "m", "does not divide");
  assertConfigError(() => rasterGroups(image, { n: 577 }), "n", "larger than the 576 cells");
  assertConfigError(() => rasterGroups(image, { n: -1 }), "n", "positive integer");
  assertConfigError(() => randomGroups(image, { n: 1000, seed: 0 }), "n", "larger than");
  assertConfigError(() => makeGrid(0, 24), "grid.height", "positive integer");
  assertConfigError(
    // deno-lint-ignore no-explicit-any
    () => par(image, { m: 2, attention: "bidirectional" as any }),
    "attention",
    '"full" or "causal"',
  );
  assertConfigError(() => scheduleByName(image, "zigzag"), "schedule", "unknown schedule name");
  assertConfigError(() => scheduleByName(image, "par5"), "schedule", "square number");
});

Deno.test("custom schedules: missing, repeated and out-of-grid cells are named", () => {
  const g = makeGrid(2, 2);
  assertEquals(custom(g, [[0], [3], [1, 2]]).transitionSlots, 1);
  assertConfigError(() => custom(g, [[0], [1, 2]]), "steps", "cells 3 are never sampled");
  assertConfigError(() => custom(g, [[0], [1, 0], [2, 3]]), "steps[1].cells", "cell 0 repeats");
  assertConfigError(() => custom(g, [[0, 1, 2, 4]]), "steps[0].cells", "outside the 2x2 grid");
  assertConfigError(() => custom(g, [[0, 1], [], [2, 3]]), "steps[1].cells", "is empty");
  assertConfigError(() => custom(g, []), "steps", "is empty");
});

Deno.test("scheduleFromJSON names the bad field", () => {
  const good = JSON.parse(scheduleToJSON(par(makeGrid(4, 4), { m: 2 })));
  assertConfigError(() => scheduleFromJSON("{not json"), "schedule", "not valid JSON");
  assertConfigError(() => scheduleFromJSON({ ...good, version: 2 }), "version", "");
  assertConfigError(
    () => scheduleFromJSON({ ...good, transitionSlots: 0 }),
    "transitionSlots",
    "need 3",
  );
  const bad = structuredClone(good);
  bad.steps[2].attention = "sideways";
  assertConfigError(() => scheduleFromJSON(bad), "steps.2.attention", "");
  const missing = structuredClone(good);
  missing.steps.pop();
  assertConfigError(() => scheduleFromJSON(missing), "steps", "never sampled");
});

Deno.test("schedule registry: a registered family resolves by name; names stay unique", () => {
  const image = makeGrid(4, 4);
  registerScheduleFamily({
    name: "test-reverse",
    pattern: /^reverse$/,
    examples: ["reverse"],
    description: "raster order backwards, one cell a step",
    build: (grid) => custom(grid, raster(grid).steps.map((s) => s.cells).reverse()),
  });
  const s = scheduleByName(image, "reverse");
  assertEquals(s.steps[0].cells, [15]);
  assertEquals(s.steps.length, 16);
  assert(scheduleNameExamples().includes("reverse"));
  assertConfigError(
    () =>
      registerScheduleFamily({
        name: "test-reverse",
        pattern: /^x$/,
        examples: [],
        description: "",
        build: (grid) => raster(grid),
      }),
    "family.name",
    "already registered",
  );
  // Built-in names still resolve as before.
  assertEquals(scheduleByName(makeGrid(24, 24), "par4").steps.length, 147);
  assertEquals(scheduleByName(makeGrid(24, 24), "random4-s3").steps.length, 147);
});
