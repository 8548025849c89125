/**
 * Speculative Jacobi Decoding (Teng et al., "Accelerating Auto-regressive Text-to-Image
 * Generation with Training-free Speculative Jacobi Decoding", ICLR 2025, arXiv 2410.01699;
 * code: github.com/tyshiwo1/Accelerating-T2I-AR-with-SJD, scheduler/jacobi_iteration_*.py) on
 * any raster-trained model, through the step contract and its KV cache.
 *
 * One iteration = one model call. It feeds the last committed cell (the class slot at the start)
 * and `draftLength` draft tokens for the next cells, causally, after the cache. Slot k's output
 * is p_k, the model's distribution of cell n + k (n = cells committed so far). Each image then:
 * 1. verifies its drafts in order: draft x for cell n + i - 1 (slot i), drawn from q, is
 *    accepted when u < min(1, p_{i-1}(x) / q(x)); the first rejection is replaced by a draw
 *    from norm(max(0, p_{i-1} - q)) and ends the verification; when every draft is accepted,
 *    a fresh draw from the last output adds one more cell;
 * 2. the batch commits the prefix every image accepted plus one cell (at least one cell a call;
 *    images that accepted more keep only that much, as in SJD's code);
 * 3. the cache is truncated to the committed slots (`model.truncate`): rejected drafts leave
 *    no trace;
 * 4. the next drafts are this call's fresh samples from the outputs beyond the committed cells
 *    (q = those outputs, the Jacobi iterate), and new positions at the window's end start as
 *    random tokens (`draftInit: "random"`, SJD's initialisation; q = a point mass on the token,
 *    so the test keeps it with probability p(x)) or copies of the left neighbour (`"left"`, the
 *    code's "repeat_horizon" option).
 * Kept-or-replaced, every committed token is a draw from the raster conditional given the
 * committed prefix, so the output has raster sampling's distribution (checked statistically in
 * tests/jacobi_test.ts). Randomness comes from per-image seeded streams (the number of uniforms
 * an image uses depends on the run), so a run is replayed exactly from its seed.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import { cellCount } from "../media/grid.ts";
import { custom } from "../schedule/builders.ts";
import type { Slot } from "../schedule/schedule.ts";
import { TokenDrawer } from "./distribution.ts";
import { buildStepInputs } from "./layout.ts";
import type { SampleResult, StepTrace } from "./sampler.ts";
import {
  effectiveSettings,
  guidedSteps,
  SampleOptionsError,
  type SamplingOverrides,
} from "./settings.ts";
import { acceptDraft, drawResidual } from "./speculative.ts";
import {
  batchRows,
  checkClassList,
  checkImageOffset,
  checkRasterTrained,
  checkTruncation,
  imageStream,
} from "./training_free.ts";

/** How a draft position that no earlier output predicted starts. */
export type DraftInit = "random" | "left";

/** Options of {@link sampleJacobi}. Unset sampling settings take the manifest's defaults. */
export interface JacobiOptions extends SamplingOverrides {
  /** One class index per image. */
  classes: readonly number[];
  /**
   * Draft tokens fed per call after the last committed cell (SJD's code feeds 16 slots: the
   * last token and 15 drafts, i.e. draftLength 15, the default; at most cells - 1). A call
   * commits 1 to draftLength + 1 cells; 0 is raster sampling.
   */
  draftLength?: number;
  /** New draft positions: `random` tokens (SJD) or copies of the left neighbour. */
  draftInit?: DraftInit;
  /** Seed of the per-image random streams (default 0). */
  seed?: number;
  /** Index of this call's first image in a larger run: image b uses stream imageOffset + b. */
  imageOffset?: number;
  /** Called after every model call with the cells committed so far and the total. */
  onStep?: (done: number, total: number) => void;
  /** Receives the warning when the manifest does not say the model was trained in raster order. */
  onWarning?: (message: string) => void;
}

/** One SJD iteration (one model call). */
export interface JacobiIteration {
  /** Cells committed before this call (the first cell it verifies). */
  start: number;
  /** Draft slots fed after the last committed cell. */
  drafts: number;
  /** Cells the batch committed (1 .. drafts + 1). */
  committed: number;
  /** Drafts each image accepted before its first rejection, [images]. */
  accepted: Int32Array;
}

/** What {@link sampleJacobi} returns: {@link SampleResult} plus the SJD trace. */
export interface JacobiResult extends SampleResult {
  /** The run's SJD record. */
  jacobi: {
    /** Draft slots per call. */
    draftLength: number;
    /** How new draft positions started. */
    draftInit: DraftInit;
    /** Model calls (= trace.length = iterations.length). */
    modelCalls: number;
    /** One entry per call. */
    iterations: JacobiIteration[];
    /**
     * 1 where the committed token is an accepted draft, 0 where it was drawn in the call that
     * committed it (a replacement after a rejection, or the extra cell after a full
     * acceptance); [images, cells] in flat grid order: the acceptance map.
     */
    acceptedDraft: Uint8Array;
  };
}

function checkDraftLength(value: unknown, cells: number): number {
  const fix = `Fix: pass 0..${cells - 1} draft tokens (SJD uses 15)`;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new SampleOptionsError(
      `draftLength: ${String(value)} is not a number of draft tokens. ${fix}`,
    );
  }
  if (value > cells - 1) {
    throw new SampleOptionsError(
      `draftLength: ${value} drafts exceed the ${cells - 1} cells after the first. ${fix}`,
    );
  }
  return value;
}

/**
 * Sample one raster-order token grid per class with Speculative Jacobi Decoding.
 * @example
 * const model = await loadOnnxModel("fixtures/models/tiny-raster.json");
 * const out = await sampleJacobi(model, { classes: [0, 3], draftLength: 15, cfgScale: 2, seed: 1 });
 * out.jacobi.modelCalls; // fewer than 576
 */
export async function sampleJacobi(model: ARModel, options: JacobiOptions): Promise<JacobiResult> {
  const m = model.manifest;
  const o = effectiveSettings(m, options);
  const classes = checkClassList(m, options.classes);
  const C = cellCount(m.grid);
  const W = m.grid.width;
  const D = checkDraftLength(options.draftLength ?? Math.min(15, C - 1), C);
  const init = options.draftInit ?? "random";
  if (init !== "random" && init !== "left") {
    throw new SampleOptionsError(
      `draftInit: "${String(init)}" is not a draft initialisation. Fix: pass "random" or "left"`,
    );
  }
  const offset = checkImageOffset(options.imageOffset);
  const warning = checkRasterTrained(m, "Speculative Jacobi Decoding");
  if (warning) (options.onWarning ?? console.warn)(warning);
  checkTruncation(model, "Speculative Jacobi Decoding");

  const images = classes.length;
  const V = m.vocabSize;
  // Unconditional rows only when guiding (scale above 1), as sample() and the official sampler.
  const guided = o.cfgScale > 1;
  const guidance = guidedSteps(Array.from({ length: C }, (_, k) => ({ cells: [k] })), o);
  const { rowClasses, imageOfRow } = batchRows(classes, guided);
  const streams = classes.map((_, b) => imageStream(o.seed, offset + b));
  const drawer = new TokenDrawer(V);
  const table = new TokenDrawer(V);
  // work: committed cells, then the current drafts, per image ([images, cells]).
  const work = new Int32Array(images * C);
  const acceptedDraft = new Uint8Array(images * C);
  // Per image and output slot k: p_k (probs) and whether it is filled this call.
  const probs: Float64Array[][] = classes.map(() =>
    Array.from({ length: D + 1 }, () => new Float64Array(V))
  );
  const filled = classes.map(() => new Uint8Array(D + 1));
  // Per image and draft index j: its proposal q (buffer) or a point mass (mass[j] = 1).
  const q: Float64Array[][] = classes.map(() =>
    Array.from({ length: D }, () => new Float64Array(V))
  );
  const mass = classes.map(() => new Uint8Array(D));

  const initDraft = (b: number, j: number, cell: number) => {
    const base = b * C;
    work[base + cell] = init === "left" && cell % W !== 0
      ? work[base + cell - 1]
      : Math.min(V - 1, Math.floor(streams[b].next() * V));
    mass[b][j] = 1;
  };

  const cache = model.newCache(rowClasses.length);
  const trace: StepTrace[] = [];
  const iterations: JacobiIteration[] = [];
  const start = performance.now();
  let modelSeconds = 0;
  let n = 0; // committed cells
  let drafts = Math.min(D, C - 1);
  for (let b = 0; b < images; b++) for (let j = 0; j < drafts; j++) initDraft(b, j, j);

  while (n < C) {
    const t0 = performance.now();
    const slots: Slot[] = [
      n === 0
        ? { kind: "class", cell: -1, transition: 0 }
        : { kind: "cell", cell: n - 1, transition: 0 },
    ];
    for (let j = 0; j < drafts; j++) slots.push({ kind: "cell", cell: n + j, transition: 0 });
    const T = slots.length;
    const past = cache.length;
    const inputs = buildStepInputs(m, slots, "causal", rowClasses, work, C, imageOfRow, past);
    const out = await model.step(cache, inputs);
    modelSeconds += out.modelSeconds;

    const logitsOf = (b: number, k: number) => {
      const useGuidance = guidance[n + k];
      const cond = out.logits.subarray((b * T + k) * V, (b * T + k + 1) * V);
      const uncond = useGuidance
        ? out.logits.subarray(((images + b) * T + k) * V, ((images + b) * T + k + 1) * V)
        : null;
      return { cond, uncond };
    };
    const target = (b: number, k: number): Float64Array => {
      if (!filled[b][k]) {
        const { cond, uncond } = logitsOf(b, k);
        table.probabilities(cond, uncond, o.cfgScale, o, probs[b][k]);
        filled[b][k] = 1;
      }
      return probs[b][k];
    };
    const fresh = (b: number, k: number): number => {
      const { cond, uncond } = logitsOf(b, k);
      return drawer.draw(cond, uncond, o.cfgScale, o, streams[b].next());
    };

    // 1. Verify each image's drafts; `last` is the token drawn after its accepted prefix.
    const accepted = new Int32Array(images);
    const last = new Int32Array(images);
    for (let b = 0; b < images; b++) {
      filled[b].fill(0);
      let a = 0;
      for (; a < drafts; a++) {
        const x = work[b * C + n + a];
        const p = target(b, a);
        const proposal = mass[b][a] ? null : q[b][a];
        if (!acceptDraft(p, proposal, x, streams[b].next())) {
          last[b] = drawResidual(p, proposal, x, streams[b].next());
          break;
        }
      }
      accepted[b] = a;
      if (a === drafts) last[b] = fresh(b, drafts);
    }
    // 2. The batch commits what every image accepted, plus one cell.
    let c = drafts + 1;
    for (let b = 0; b < images; b++) c = Math.min(c, accepted[b] + 1);
    for (let b = 0; b < images; b++) {
      const base = b * C;
      for (let i = 0; i < c - 1; i++) acceptedDraft[base + n + i] = 1;
      if (accepted[b] >= c) acceptedDraft[base + n + c - 1] = 1;
      else work[base + n + c - 1] = last[b];
    }
    // 3. Keep the slots of the committed cells' predecessors: the last committed cell (or the
    // class) and the accepted drafts before the new last cell.
    model.truncate(cache, past + c);
    // 4. Next drafts: outputs beyond the committed cells, then fresh initialisations.
    const next = n + c;
    const nextDrafts = next >= C ? 0 : Math.min(D, C - 1 - next);
    for (let b = 0; b < images; b++) {
      for (let j = 0; j < nextDrafts; j++) {
        const cell = next + j;
        const k = cell - n; // the output that predicted this cell this call, if any
        if (k <= drafts) {
          const p = target(b, k);
          work[b * C + cell] = k === drafts && accepted[b] === drafts ? last[b] : fresh(b, k);
          // The draft's proposal is p_k: swap buffers instead of copying.
          const held = q[b][j];
          q[b][j] = p;
          probs[b][k] = held;
          filled[b][k] = 0;
          mass[b][j] = 0;
        } else initDraft(b, j, cell);
      }
    }
    iterations.push({ start: n, drafts, committed: c, accepted });
    const cells = Array.from({ length: c }, (_, i) => n + i);
    trace.push({
      cells,
      wallSeconds: (performance.now() - t0) / 1000,
      modelSeconds: out.modelSeconds,
    });
    n = next;
    drafts = nextDrafts;
    options.onStep?.(n, C);
  }
  const schedule = custom(m.grid, trace.map((t) => t.cells), {
    name: `sjd-d${D}`,
    attention: "causal",
  });
  return {
    tokens: work,
    images,
    schedule,
    trace,
    seconds: (performance.now() - start) / 1000,
    modelSeconds,
    backend: model.backend,
    jacobi: {
      draftLength: D,
      draftInit: init,
      modelCalls: iterations.length,
      iterations,
      acceptedDraft,
    },
  };
}
