/**
 * ZipAR (He et al., "ZipAR: Parallel Autoregressive Image Generation through Spatial
 * Locality", ICML 2025, arXiv 2412.04062; code: github.com/ThisisBillhe/ZipAR,
 * LlamaGen-ZipAR/autoregressive/models/generate_zipar.py) on any raster-trained model, through
 * the step contract.
 *
 * Rows of the raster order decode as a wavefront: row r+1 starts once row r holds `window`
 * tokens, and every started row gains one token a model call (the cells of each call are
 * `zipar(grid, { window })`'s steps). What a call feeds, per image:
 * - each cell sampled by the previous call, at its own position: its output is the raster
 *   successor's distribution (the next cell of its row), or unused when that successor is
 *   already sampled (the last cell of a row, fed only so later rows can attend to it);
 * - for a row r that starts now, a **stand-in** slot predicting cell (r, 0): the token of the
 *   most recent cell of row r-1 placed at the position of (r-1, W-1), the raster predecessor of
 *   (r, 0) that does not exist yet (at window W the real (r-1, W-1) is there and is fed instead).
 *   No other slot ever attends to a stand-in.
 * Masks: a slot at position p attends to the class slot and to every sampled cell fed so far
 * (this call included) whose position is below p: exactly the raster context the model was
 * trained on, minus the cells of the rows above that are not sampled yet.
 *
 * Fixed window: one uniform per cell, in the implied schedule's order (image b's k-th sampled
 * token uses `uniforms[b * cells + k]`, as in `sample()`); window W is raster sampling, token
 * for token. The adaptive variant (see {@link ZipAROptions.adaptive}) draws from per-image
 * seeded streams.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import { cellCount } from "../media/grid.ts";
import { custom } from "../schedule/builders.ts";
import type { Schedule, Slot } from "../schedule/schedule.ts";
import { checkZipARWindow, rasterRows, zipar } from "../schedule/zipar.ts";
import { Rng } from "../util/rng.ts";
import { checkUniforms } from "./checks.ts";
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
  imageStream,
} from "./training_free.ts";

/** Options of {@link sampleZipAR}. Unset sampling settings take the manifest's defaults. */
export interface ZipAROptions extends SamplingOverrides {
  /** One class index per image. */
  classes: readonly number[];
  /**
   * Local window s (1..W): row r+1 starts once row r has s tokens; with `adaptive`, the
   * largest window a row waits for.
   */
  window: number;
  /**
   * Adaptive window (parlab's construction after the paper's description; the official code
   * has none): a new row's first token is drafted once the row above has `minWindow` tokens
   * (default 1) and re-predicted each call as that row grows; the draft x (drawn from q) is kept
   * with probability min(1, p(x) / q(x)), p the new prediction, and the row starts; otherwise
   * it is redrawn from p and tested again next call. At `window` tokens the test's rejection is
   * replaced from norm(max(0, p - q)) and the row starts regardless. Rows thus start with a
   * window in minWindow + 1 .. window.
   */
  adaptive?: boolean | { minWindow?: number };
  /** Seed of the uniforms (default 0). Ignored when `uniforms` is given. */
  seed?: number;
  /**
   * Explicit uniforms (fixed window only), [images, cells]: image b's k-th sampled token, k in
   * the order of `zipar(grid, { window })`, uses `uniforms[b * cells + k]`.
   */
  uniforms?: Float64Array;
  /** Adaptive only: index of this call's first image in a larger run (its random stream). */
  imageOffset?: number;
  /** Called after every model call: calls so far, and the fixed window's total (adaptive: a bound). */
  onStep?: (done: number, total: number) => void;
  /** Receives the warning when the manifest does not say the model was trained in raster order. */
  onWarning?: (message: string) => void;
}

/** What a slot of a ZipAR call holds. */
export type ZipARSlotKind = "class" | "cell" | "stand-in" | "pad";

/** One input slot of a ZipAR call. */
export interface ZipARSlot {
  /** `cell`: a sampled cell at its own position; `stand-in`: see the module doc. */
  kind: ZipARSlotKind;
  /** The cell whose token the slot holds (-1 for class and pad slots). */
  token: number;
  /** Its position id (-1 for class and pad slots). */
  position: number;
  /** The cell its output is sampled for, drafted for or tested for; -1 when unused. */
  predicts: number;
}

/** One ZipAR model call. */
export interface ZipARStep {
  /** Image 0's slots, in the order fed. */
  slots: ZipARSlot[];
  /** Cells each image sampled (committed), [images]. */
  committed: Int32Array;
}

/** What {@link sampleZipAR} returns: {@link SampleResult} plus the ZipAR trace. */
export interface ZipARResult extends SampleResult {
  /** The run's ZipAR record; `schedule` is image 0's implied schedule. */
  zipar: {
    /** The (largest) local window. */
    window: number;
    /** The adaptive variant's smallest window, or null for a fixed window. */
    minWindow: number | null;
    /** Model calls (= trace.length). */
    modelCalls: number;
    /** One entry per call. */
    steps: ZipARStep[];
    /**
     * Tokens of row r-1 sampled when row r's first token was, [images, rows] (row 0: 0): the
     * window each row started with.
     */
    rowWindows: Int32Array;
    /** Each image's implied schedule (identical for a fixed window). */
    schedules: Schedule[];
  };
}

type Role = "commit" | "draft" | "test" | "none";

interface Planned extends ZipARSlot {
  role: Role;
  row: number;
}

/** Per-image decoding state. */
class ImageState {
  /** Sampled cells per row (rows fill left to right). */
  readonly known: Int32Array;
  /** Adaptive: the held draft of a row's first cell (-1: none) and its proposal. */
  readonly draft: Int32Array;
  readonly proposal: Float64Array[];
  /** Cells sampled by the last call (fed by the next). */
  fed: number[] = [];
  /** Position and visibility of every slot in the cache (cond and uncond rows alike). */
  readonly cachePos: number[] = [];
  readonly cacheVisible: number[] = [];
  /** Cells sampled per call. */
  readonly steps: number[][] = [];
  done = 0;

  constructor(rows: number, vocab: number, adaptive: boolean) {
    this.known = new Int32Array(rows);
    this.draft = new Int32Array(rows).fill(-1);
    this.proposal = adaptive ? Array.from({ length: rows }, () => new Float64Array(vocab)) : [];
  }
}

/**
 * Sample one token grid per class with ZipAR's next-set prediction.
 * @example
 * const model = await loadOnnxModel("fixtures/models/tiny-raster.json");
 * const out = await sampleZipAR(model, { classes: [0, 3], window: 8, cfgScale: 2, seed: 1 });
 * out.zipar.modelCalls; // 208 on 24x24
 */
export async function sampleZipAR(model: ARModel, options: ZipAROptions): Promise<ZipARResult> {
  const m = model.manifest;
  const o = effectiveSettings(m, options);
  const classes = checkClassList(m, options.classes);
  const grid = m.grid;
  const s = checkZipARWindow(grid, options.window);
  let minWindow: number | null = null;
  if (options.adaptive) {
    const given = typeof options.adaptive === "object" ? options.adaptive.minWindow : undefined;
    minWindow = checkZipARWindow(grid, given ?? 1, "adaptive.minWindow");
    if (minWindow >= s) {
      throw new SampleOptionsError(
        `adaptive.minWindow: ${minWindow} is not below window ${s}. Fix: choose a minWindow of ` +
          `1..${s - 1}, or leave adaptive out for a fixed window`,
      );
    }
    if (options.uniforms) {
      throw new SampleOptionsError(
        "uniforms: the adaptive window draws a run-dependent number of uniforms. Fix: pass a " +
          "seed, or leave adaptive out",
      );
    }
  }
  const adaptive = minWindow !== null;
  const warning = checkRasterTrained(m, "ZipAR");
  if (warning) (options.onWarning ?? console.warn)(warning);

  const images = classes.length;
  const C = cellCount(grid);
  const { rows: R, width: W } = rasterRows(grid);
  const V = m.vocabSize;
  let uniforms: Float64Array | null = null;
  let streams: Rng[] = [];
  if (adaptive) {
    const offset = checkImageOffset(options.imageOffset);
    streams = classes.map((_, b) => imageStream(o.seed, offset + b));
  } else if (options.uniforms) {
    checkUniforms(options.uniforms);
    if (options.uniforms.length !== images * C) {
      throw new SampleOptionsError(
        `uniforms: has ${options.uniforms.length} numbers, needs images x cells = ${images * C}`,
      );
    }
    uniforms = options.uniforms;
  } else uniforms = new Rng(o.seed).uniforms(images * C);
  const drawnOf = new Int32Array(images);
  const nextUniform = (b: number) => uniforms ? uniforms[b * C + drawnOf[b]++] : streams[b].next();

  // Unconditional rows only when guiding (scale above 1), as sample() and the official sampler.
  const guided = o.cfgScale > 1;
  const guidance = guidedSteps(zipar(grid, { window: s }).steps, o);
  const { rowClasses } = batchRows(classes, guided);
  const tokens = new Int32Array(images * C);
  const rowWindows = new Int32Array(images * R);
  const drawer = new TokenDrawer(V);
  const table = adaptive ? new TokenDrawer(V) : null;
  const target = adaptive ? new Float64Array(V) : null;
  const state = classes.map(() => new ImageState(R, V, adaptive));
  const cache = model.newCache(rowClasses.length);
  // The calls of a fixed window; an upper bound for the adaptive one (its windows are <= s).
  const totalSteps = (R - 1) * s + W;
  const trace: StepTrace[] = [];
  const steps: ZipARStep[] = [];
  const start = performance.now();
  let modelSeconds = 0;

  /** The slots image `st` feeds this call (before padding), in position order. */
  const plan = (st: ImageState, t: number): Planned[] => {
    if (st.done === C) return [];
    if (t === 0) {
      return [{ kind: "class", token: -1, position: -1, predicts: 0, role: "commit", row: 0 }];
    }
    // Rows whose first cell is predicted now (fixed: start; adaptive: draft or test).
    const starting = new Map<number, Role>();
    for (let r = 1; r < R; r++) {
      if (st.known[r] > 0) continue;
      const above = st.known[r - 1];
      if (st.draft[r] >= 0) starting.set(r, "test");
      else if (above >= (adaptive ? minWindow! : s)) starting.set(r, adaptive ? "draft" : "commit");
      break; // rows below an unstarted row cannot start
    }
    const out: Planned[] = [];
    for (const cell of st.fed) {
      const r = Math.floor(cell / W);
      const c = cell % W;
      const slot: Planned = {
        kind: "cell",
        token: cell,
        position: cell,
        predicts: -1,
        role: "none",
        row: r,
      };
      if (c < W - 1) {
        slot.predicts = cell + 1;
        slot.role = "commit";
      } else if (starting.has(r + 1)) {
        slot.predicts = cell + 1;
        slot.role = starting.get(r + 1)!;
        slot.row = r + 1;
        starting.delete(r + 1);
      }
      out.push(slot);
    }
    for (const [r, role] of starting) {
      out.push({
        kind: "stand-in",
        token: (r - 1) * W + st.known[r - 1] - 1,
        position: (r - 1) * W + W - 1,
        predicts: r * W,
        role,
        row: r,
      });
    }
    return out.sort((a, b) => a.position - b.position);
  };

  for (let t = 0; state.some((st) => st.done < C); t++) {
    const t0 = performance.now();
    const plans = state.map((st) => plan(st, t));
    const T = Math.max(1, ...plans.map((p) => p.length));
    const pad: Planned = {
      kind: "pad",
      token: -1,
      position: -1,
      predicts: -1,
      role: "none",
      row: -1,
    };
    for (const p of plans) while (p.length < T) p.push(pad);
    const batch = rowClasses.length;
    const P = cache.length;
    const inputIds = new BigInt64Array(batch * T);
    const positionIds = new BigInt64Array(batch * T);
    const attentionMask = new Uint8Array(batch * T * (P + T));
    plans.forEach((p, b) => {
      const slots: Slot[] = p.map((x) =>
        x.kind === "cell" || x.kind === "stand-in"
          ? { kind: "cell", cell: x.token, transition: 0 }
          : { kind: "class", cell: -1, transition: 0 }
      );
      const own = guided ? [b, images + b] : [b];
      const part = buildStepInputs(
        m,
        slots,
        "full",
        own.map((r) => rowClasses[r]),
        tokens,
        C,
        own.map(() => b),
        P,
      );
      const st = state[b];
      const mask = new Uint8Array(T * (P + T));
      for (let i = 0; i < T; i++) {
        const row = i * (P + T);
        if (p[i].kind === "pad") {
          mask[row + P + i] = 1;
          continue;
        }
        const pos = p[i].position;
        for (let j = 0; j < P; j++) {
          if (st.cacheVisible[j] && st.cachePos[j] < pos) mask[row + j] = 1;
        }
        for (let j = 0; j < T; j++) {
          const other = p[j];
          const visible = other.kind === "cell" || other.kind === "class";
          if (j === i || (visible && other.position < pos)) mask[row + P + j] = 1;
        }
      }
      own.forEach((r, k) => {
        for (let i = 0; i < T; i++) {
          inputIds[r * T + i] = part.inputIds[k * T + i];
          positionIds[r * T + i] = BigInt(p[i].position);
        }
        attentionMask.set(mask, r * T * (P + T));
      });
    });
    const out = await model.step(cache, { batch, length: T, inputIds, positionIds, attentionMask });
    modelSeconds += out.modelSeconds;
    const useGuidance = guidance[t] ?? false;

    const committed = new Int32Array(images);
    plans.forEach((p, b) => {
      const st = state[b];
      // Rows' lengths as this call's queries saw them (commits below raise st.known).
      const seen = st.known.slice();
      const sampled: number[] = [];
      const commit = (cell: number, token: number) => {
        const r = Math.floor(cell / W);
        if (cell !== r * W + st.known[r]) {
          throw new Error(`ZipAR bookkeeping: cell ${cell} out of turn`);
        }
        tokens[b * C + cell] = token;
        if (st.known[r] === 0 && r > 0) rowWindows[b * R + r] = seen[r - 1];
        st.known[r]++;
        st.done++;
        sampled.push(cell);
      };
      for (let i = 0; i < T; i++) {
        const x = p[i];
        st.cachePos.push(x.position);
        st.cacheVisible.push(x.kind === "cell" || x.kind === "class" ? 1 : 0);
        if (x.role === "none") continue;
        const cond = out.logits.subarray((b * T + i) * V, (b * T + i + 1) * V);
        const uncond = useGuidance
          ? out.logits.subarray(((images + b) * T + i) * V, ((images + b) * T + i + 1) * V)
          : null;
        if (x.role === "commit") {
          commit(x.predicts, drawer.draw(cond, uncond, o.cfgScale, o, nextUniform(b)));
        } else if (x.role === "draft") {
          st.draft[x.row] = drawer.draw(cond, uncond, o.cfgScale, o, nextUniform(b));
          table!.probabilities(cond, uncond, o.cfgScale, o, st.proposal[x.row]);
        } else {
          // test: the draft against this call's prediction p of the same cell.
          const p = table!.probabilities(cond, uncond, o.cfgScale, o, target!);
          const q = st.proposal[x.row];
          const draft = st.draft[x.row];
          if (acceptDraft(p, q, draft, nextUniform(b))) {
            commit(x.predicts, draft);
            st.draft[x.row] = -1;
          } else if (seen[x.row - 1] >= s) {
            commit(x.predicts, drawResidual(p, q, draft, nextUniform(b)));
            st.draft[x.row] = -1;
          } else {
            st.draft[x.row] = drawer.draw(cond, uncond, o.cfgScale, o, nextUniform(b));
            q.set(p);
          }
        }
      }
      st.fed = sampled;
      committed[b] = sampled.length;
      if (sampled.length > 0) st.steps.push(sampled);
    });
    const slots0: ZipARSlot[] = plans[0].map(({ kind, token, position, predicts }) => ({
      kind,
      token,
      position,
      predicts,
    }));
    steps.push({ slots: slots0, committed });
    trace.push({
      cells: [...state[0].fed],
      wallSeconds: (performance.now() - t0) / 1000,
      modelSeconds: out.modelSeconds,
    });
    options.onStep?.(t + 1, totalSteps);
  }
  const schedules = adaptive
    ? state.map((st) =>
      custom(grid, st.steps, { name: `zipar${minWindow}-${s}`, attention: "causal" })
    )
    : classes.map(() => zipar(grid, { window: s }));
  return {
    tokens,
    images,
    schedule: schedules[0],
    trace,
    seconds: (performance.now() - start) / 1000,
    modelSeconds,
    backend: model.backend,
    zipar: { window: s, minWindow, modelCalls: steps.length, steps, rowWindows, schedules },
  };
}
