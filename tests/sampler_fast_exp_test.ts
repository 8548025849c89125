import { assert, assertEquals } from "./assert.ts";
import { fastExp } from "../src/sampler/fast_exp.ts";
import { Rng } from "../src/util/rng.ts";

Deno.test("fastExp is within 2 ulp of Math.exp on [-700, 700], Math.exp outside", () => {
  const rng = new Rng(5);
  let worst = 0;
  const check = (x: number) => {
    const want = Math.exp(x);
    const err = Math.abs(fastExp(x) - want) / want;
    worst = Math.max(worst, err);
    assert(err <= 2 * 2 ** -52, `x = ${x}: ${fastExp(x)} vs ${want}`);
  };
  for (let i = 0; i < 200_000; i++) {
    // The sampler's range (z - max <= 0) densely, then the whole range.
    check(-rng.next() * 40);
    check((rng.next() - 0.5) * 1400);
  }
  // Table and rounding edges: multiples of ln2/64 and halfway points between them.
  for (let k = -64 * 20; k <= 64 * 20; k++) {
    check((k * Math.LN2) / 64);
    check(((k + 0.5) * Math.LN2) / 64);
  }
  for (const x of [0, -0, 1, -1, 700, -700]) check(x);
  assertEquals(fastExp(0), 1);
  for (const x of [-745, -800, 710, -Infinity, Infinity]) assertEquals(fastExp(x), Math.exp(x));
  assert(Number.isNaN(fastExp(NaN)));
});
