import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { nllAndEntropy, TokenDrawer } from "../src/sampler/mod.ts";
import { Rng } from "../src/util/mod.ts";

const off = { temperature: 1, topK: 0, topP: 1 };

/** Reference: softmax in float64, then the filters, then the inverse CDF, written plainly. */
function reference(logits: number[], opts: typeof off, u: number): number {
  const z = logits.map((l) => l / opts.temperature);
  const max = Math.max(...z);
  const e = z.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const w = e.map((x) => x / sum);
  let ranked = w.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i);
  if (opts.topK > 0 && opts.topK < logits.length) {
    ranked = ranked.slice(0, opts.topK);
    const kept = ranked.reduce((a, r) => a + r.p, 0);
    for (const r of ranked) w[r.i] = r.p = r.p / kept;
  }
  if (opts.topP < 1) {
    let acc = 0;
    let k = 0;
    while (k < ranked.length) {
      acc += ranked[k++].p;
      if (acc >= opts.topP) break;
    }
    ranked = ranked.slice(0, k);
  }
  const kept = ranked.map((r) => r.i).sort((a, b) => a - b);
  const total = kept.reduce((s, i) => s + w[i], 0);
  let acc = 0;
  for (const i of kept) {
    acc += w[i];
    if (acc > u * total) return i;
  }
  return kept.at(-1)!;
}

Deno.test("inverse-CDF draw: u picks the token whose cumulative mass passes u", () => {
  const d = new TokenDrawer(4);
  const logits = new Float32Array([0, Math.log(2), Math.log(3), Math.log(4)]); // p = .1 .2 .3 .4
  assertEquals(d.draw(logits, null, 1, off, 0), 0);
  assertEquals(d.draw(logits, null, 1, off, 0.0999), 0);
  assertEquals(d.draw(logits, null, 1, off, 0.1001), 1);
  assertEquals(d.draw(logits, null, 1, off, 0.55), 2);
  assertEquals(d.draw(logits, null, 1, off, 0.61), 3);
  assertEquals(d.draw(logits, null, 1, off, 0.999999), 3);
});

Deno.test("top-k and top-p keep the right tokens", () => {
  const d = new TokenDrawer(4);
  const logits = new Float32Array([0, Math.log(2), Math.log(3), Math.log(4)]);
  // top-k 2 keeps ids 2 and 3 (p .3 and .4 -> 3/7, 4/7).
  assertEquals(d.draw(logits, null, 1, { ...off, topK: 2 }, 0), 2);
  assertEquals(d.draw(logits, null, 1, { ...off, topK: 2 }, 0.42), 2);
  assertEquals(d.draw(logits, null, 1, { ...off, topK: 2 }, 0.43), 3);
  // top-p 0.5 keeps .4 then .3 (mass .7 >= .5): ids 2, 3. top-p 0.39 keeps only id 3.
  assertEquals(d.draw(logits, null, 1, { ...off, topP: 0.39 }, 0), 3);
  assertEquals(d.draw(logits, null, 1, { ...off, topP: 0.5 }, 0), 2);
  // Temperature sharpens towards the mode.
  assertEquals(d.draw(logits, null, 1, { ...off, temperature: 0.01 }, 0.01), 3);
});

Deno.test("guidance: u + s (c - u), and s = 1 gives the conditional distribution", () => {
  const d = new TokenDrawer(3);
  const cond = new Float32Array([1, 2, 0]);
  const uncond = new Float32Array([1, 0, 3]);
  // s = 3: g = [1, 6, -6] -> almost surely id 1.
  assertEquals(d.draw(cond, uncond, 3, off, 0.5), 1);
  const rng = new Rng(5);
  for (let i = 0; i < 50; i++) {
    const u = rng.next();
    assertEquals(d.draw(cond, uncond, 1, off, u), d.draw(cond, null, 1, off, u));
  }
});

Deno.test("draws agree with a plain reference on random logits", () => {
  const rng = new Rng(11);
  const V = 37;
  const d = new TokenDrawer(V);
  for (let t = 0; t < 300; t++) {
    const logits = Array.from({ length: V }, () => (rng.next() - 0.5) * 8);
    // Ties exercise the lower-id-first rule.
    logits[5] = logits[9];
    const opts = {
      temperature: 0.5 + rng.next(),
      topK: rng.int(3) === 0 ? 0 : 1 + rng.int(V),
      topP: rng.int(2) ? 1 : 0.2 + 0.8 * rng.next(),
    };
    const u = rng.next();
    assertEquals(
      d.draw(new Float32Array(logits), null, 1, opts, u),
      reference(Array.from(new Float32Array(logits)), opts, u),
    );
  }
});

Deno.test("entropy of the sampled distribution, NLL and entropy of teacher forcing", () => {
  const d = new TokenDrawer(4, true);
  d.draw(new Float32Array(4), null, 1, { ...off, topK: 1 }, 0.3);
  assertAlmostEquals(d.entropyBits, 2, 1e-12);
  const r = nllAndEntropy(new Float32Array([0, 0, 0, 0]), 2);
  assertAlmostEquals(r.nll, Math.log(4), 1e-12);
  assertAlmostEquals(r.entropyBits, 2, 1e-12);
  const peaked = nllAndEntropy(new Float32Array([50, 0, 0]), 0);
  assert(peaked.nll < 1e-15 + 1e-12 && peaked.entropyBits < 1e-15 + 1e-12);
});

Deno.test("top-k pre-selection draws what the full path draws (V 1024, guidance, top-p)", () => {
  const rng = new Rng(5);
  const V = 1024;
  const fast = new TokenDrawer(V); // top-k <= PRESELECT_MAX_K: the pre-selection path
  const full = new TokenDrawer(V, true); // recording entropy keeps the full path
  const probs = new Float64Array(V);
  let differ = 0;
  for (let t = 0; t < 2000; t++) {
    const cond = Float32Array.from({ length: V }, () => (rng.next() - 0.5) * 12);
    const uncond = Float32Array.from(cond, (c) => c + (rng.next() - 0.5) * 2);
    const opts = {
      temperature: 0.6 + rng.next(),
      topK: [1, 2, 20, 100, 256][rng.int(5)],
      topP: rng.int(2) ? 1 : 0.5 + 0.5 * rng.next(),
    };
    const guided = rng.int(2) === 1;
    const u = rng.next();
    const a = fast.draw(cond, guided ? uncond : null, 2, opts, u);
    const b = full.draw(cond, guided ? uncond : null, 2, opts, u);
    if (a === b) continue;
    differ++;
    // Only a uniform within rounding of the boundary between the two ids may disagree.
    full.probabilities(cond, guided ? uncond : null, 2, opts, probs);
    let cum = 0;
    for (let i = 0; i < Math.min(a, b); i++) cum += probs[i];
    const edge = cum + probs[Math.min(a, b)];
    assert(
      Math.abs(edge - u) < 1e-12,
      `draw ${t}: ${a} vs ${b}, u ${u} is ${edge - u} from the edge`,
    );
  }
  assert(differ <= 2, `${differ} of 2000 draws differ`);
});
