/**
 * The per-draw audit of a model's in-graph sampling head against the JavaScript draw, shared by
 * tests/sampling_head_test.ts and runnable on any head model (counts per setting):
 *
 *     deno run -A tests/sampling_head_audit.ts M.json [seeds, default 4]
 *
 * {@link DrawAudit} wraps the model so every drawing step also returns its logits; each in-graph
 * token is compared with `TokenDrawer.draw` on those logits with the float64 uniform, and a
 * disagreement must lie within {@link BOUNDARY_TOL} of a boundary ({@link drawMargin}).
 * @module
 */
import type { ARModel, KVCache, StepInputs } from "../src/model/mod.ts";
import { loadModel } from "../src/model/mod.ts";
import { sample, type SampleOptions, TokenDrawer } from "../src/sampler/mod.ts";
import type { SamplingOptions } from "../src/sampler/distribution.ts";
import { scheduleFromJSON } from "../src/schedule/mod.ts";
import { Rng } from "../src/util/mod.ts";
import { assert, assertEquals } from "./assert.ts";

/**
 * A device token may differ from the JavaScript one only where the draw sits within this much
 * probability mass of a boundary: float32 sums over V = 128 terms and the float32 uniform are
 * good to ~1e-7 of the mass, so 1e-5 leaves two orders of magnitude.
 */
export const BOUNDARY_TOL = 1e-5;

/** The settings compared (cfgInterval 3: guidance on steps 0-2 only, rows still doubled). */
export const SETTINGS: Record<string, Partial<SampleOptions>> = {
  "no guidance": { cfgScale: 1 },
  "guidance 2": { cfgScale: 2 },
  "guidance 2, cfgInterval 3": { cfgScale: 2, cfgInterval: 3 },
  "temperature 0.7": { cfgScale: 2, temperature: 0.7 },
  "topK 20": { cfgScale: 2, topK: 20 },
  "topP 0.8": { cfgScale: 2, topP: 0.8 },
  "all: guidance 3, cfgInterval 5, T 0.7, topK 20, topP 0.8": {
    cfgScale: 3,
    cfgInterval: 5,
    temperature: 0.7,
    topK: 20,
    topP: 0.8,
  },
};

/**
 * How close one draw is to a decision boundary, in probability mass (float64): the least of
 * (1) |u - C_j| over the cumulative sums C_j of the kept distribution at ids between the two
 * tokens, (2) the gap between the k-th and (k+1)-th probability (top-k cut), (3) |r_j - topP|
 * over the ranked running sums (top-p cut). A disagreement is explained when it is tiny.
 */
export function drawMargin(
  drawer: TokenDrawer,
  cond: Float32Array,
  uncond: Float32Array | null,
  scale: number,
  o: SamplingOptions,
  u: number,
  a: number,
  b: number,
): number {
  const V = cond.length;
  const q = drawer.probabilities(cond, uncond, scale, o, new Float64Array(V));
  let margin = Infinity;
  let acc = 0;
  for (let j = 0; j < Math.max(a, b); j++) {
    acc += q[j];
    if (j >= Math.min(a, b)) margin = Math.min(margin, Math.abs(u - acc));
  }
  const p = [...drawer.probabilities(cond, uncond, scale, { ...o, topK: 0, topP: 1 }, q)]
    .sort((x, y) => y - x);
  const k = o.topK > 0 && o.topK < V ? o.topK : V;
  if (k < V) margin = Math.min(margin, p[k - 1] - p[k]);
  if (o.topP < 1) {
    const mass = p.slice(0, k).reduce((s, x) => s + x, 0);
    let run = 0;
    for (let r = 0; r < k; r++) {
      run += p[r] / mass;
      margin = Math.min(margin, Math.abs(run - o.topP));
    }
  }
  return margin;
}

/** Per-draw bookkeeping of one audited run. */
export interface Audit {
  draws: number;
  disagreements: number;
  worstMargin: number;
}

/**
 * Wraps a head model: every drawing step also keeps its logits, and each in-graph token is
 * checked against the JavaScript draw from those logits with the float64 uniform. With `stress`
 * each step first runs to learn its logits, is rolled back, and reruns with every uniform moved
 * onto its slot's cumulative boundary below the JavaScript token (`uniforms` is updated, so the
 * reference uses the same numbers).
 */
export class DrawAudit implements ARModel {
  readonly audit: Audit = { draws: 0, disagreements: 0, worstMargin: 0 };
  #step = 0;
  #drawn = 0;
  readonly #drawer: TokenDrawer;

  constructor(
    readonly inner: ARModel,
    readonly uniforms: Float64Array,
    readonly stepCells: number[],
    readonly cells: number,
    readonly options: SamplingOptions,
    readonly stress = false,
  ) {
    this.#drawer = new TokenDrawer(inner.manifest.vocabSize);
  }
  get manifest() {
    return this.inner.manifest;
  }
  get source() {
    return this.inner.source;
  }
  get backend() {
    return this.inner.backend;
  }
  get backendName() {
    return this.inner.backendName;
  }
  newCache(batch: number): KVCache {
    return this.inner.newCache(batch);
  }
  truncate(cache: KVCache, length: number): void {
    this.inner.truncate(cache, length);
  }
  dispose(): Promise<void> {
    return Promise.resolve();
  }

  async step(cache: KVCache, inputs: StepInputs) {
    const d = inputs.draw;
    assert(d, "the sampler must draw on the device here");
    const T = inputs.length;
    const images = d.uniforms.length / T;
    const n = this.stepCells[this.#step];
    const V = this.manifest.vocabSize;
    const at = (logits: Float32Array, row: number, i: number) =>
      logits.subarray((row * T + i) * V, (row * T + i + 1) * V);
    if (this.stress) {
      const before = cache.length;
      const probe = await this.inner.step(cache, { ...inputs, draw: { ...d, keepLogits: true } });
      this.inner.truncate(cache, before);
      for (let b = 0; b < images; b++) {
        for (let i = 0; i < n; i++) {
          const cond = at(probe.logits, b, i);
          const uncond = d.guided ? at(probe.logits, images + b, i) : null;
          const k = b * this.cells + this.#drawn + i;
          const js = this.#drawer.draw(cond, uncond, d.cfgScale, this.options, this.uniforms[k]);
          const q = this.#drawer.probabilities(
            cond,
            uncond,
            d.cfgScale,
            this.options,
            new Float64Array(V),
          );
          let below = 0;
          for (let j = 0; j < js; j++) below += q[j];
          this.uniforms[k] = below; // the boundary where the JavaScript draw enters `js`
          d.uniforms[b * T + i] = below;
        }
      }
    }
    const out = await this.inner.step(cache, { ...inputs, draw: { ...d, keepLogits: true } });
    assert(out.tokens && out.logits.length === inputs.batch * T * V, "tokens and logits");
    for (let b = 0; b < images; b++) {
      for (let i = 0; i < n; i++) {
        const cond = at(out.logits, b, i);
        const uncond = d.guided ? at(out.logits, images + b, i) : null;
        const u = this.uniforms[b * this.cells + this.#drawn + i];
        const js = this.#drawer.draw(cond, uncond, d.cfgScale, this.options, u);
        const dev = out.tokens[b * T + i];
        this.audit.draws++;
        if (js === dev) continue;
        const margin = drawMargin(this.#drawer, cond, uncond, d.cfgScale, this.options, u, js, dev);
        this.audit.disagreements++;
        this.audit.worstMargin = Math.max(this.audit.worstMargin, margin);
        assert(
          margin < BOUNDARY_TOL,
          `step ${this.#step} image ${b} slot ${i}: device ${dev}, JavaScript ${js}, ` +
            `${margin} of the mass from the nearest boundary (tolerance ${BOUNDARY_TOL})`,
        );
      }
    }
    this.#drawn += n;
    this.#step++;
    return out;
  }
}

/** Audit `seeds` runs of one setting on `model`; the JavaScript runs must match where clean. */
export async function auditSetting(
  model: ARModel,
  setting: Partial<SampleOptions>,
  seeds: number[],
  classes: number[],
  stress = false,
): Promise<Audit & { runs: number; identicalRuns: number }> {
  const schedule = scheduleFromJSON(model.manifest.schedule);
  const cells = schedule.steps.reduce((s, st) => s + st.cells.length, 0);
  const stepCells = schedule.steps.map((s) => s.cells.length);
  const total = { draws: 0, disagreements: 0, worstMargin: 0, runs: 0, identicalRuns: 0 };
  const o: SamplingOptions = {
    temperature: setting.temperature ?? 1,
    topK: setting.topK ?? 0,
    topP: setting.topP ?? 1,
  };
  for (const seed of seeds) {
    const uniforms = new Rng(seed).uniforms(classes.length * cells);
    const audited = new DrawAudit(model, uniforms, stepCells, cells, o, stress);
    const base = { schedule, classes, onWarning: () => {}, cfgInterval: null, ...o, ...setting };
    const device = await sample(audited, { ...base, uniforms, drawOnDevice: true });
    const a = audited.audit;
    total.draws += a.draws;
    total.disagreements += a.disagreements;
    total.worstMargin = Math.max(total.worstMargin, a.worstMargin);
    total.runs++;
    assertEquals(a.draws, classes.length * cells, "every cell audited");
    if (a.disagreements === 0) {
      const js = await sample(model, { ...base, uniforms, drawOnDevice: false });
      assertEquals(js.tokens, device.tokens, `seed ${seed}: same draws, same tokens`);
      total.identicalRuns++;
    }
  }
  return total;
}

if (import.meta.main) {
  const [path, seeds = "4"] = Deno.args;
  const model = await loadModel(path, { backend: "cpu" });
  const ids = Array.from({ length: Number(seeds) }, (_, i) => i);
  const classes = Array.from({ length: 4 }, (_, i) => i % model.manifest.numClasses);
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const r = await auditSetting(model, setting, ids, classes);
    console.log(
      `${model.manifest.name}, ${name}: ${r.disagreements} of ${r.draws} draws differ ` +
        `(worst margin ${r.worstMargin.toExponential(1)})`,
    );
  }
  await model.dispose();
}
