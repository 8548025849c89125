/**
 * Replays python/golden.py's golden files through onnxruntime-node and reports the largest
 * logit difference per step: the proof that an exported model computes what PyTorch computed.
 * @module
 */
import { ort } from "../src/deps.ts";

/** A NumPy array read from a .npy file (format 1.0/2.0, C order, little-endian). */
export interface Npy {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Uint8Array | Int32Array;
}

/** Parse .npy bytes (dtypes <f4, <f8, <i8, <i4, |b1, |u1). */
export function parseNpy(bytes: Uint8Array): Npy {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new Error("not a .npy file");
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "";
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  if (!descr || fortran) throw new Error(`unsupported .npy header ${header}`);
  const body = bytes.slice(start + headerLen);
  const buf = body.buffer;
  const data = descr === "<f4"
    ? new Float32Array(buf)
    : descr === "<f8"
    ? new Float64Array(buf)
    : descr === "<i8"
    ? new BigInt64Array(buf)
    : descr === "<i4"
    ? new Int32Array(buf)
    : descr === "|b1" || descr === "|u1"
    ? new Uint8Array(buf)
    : null;
  if (!data) throw new Error(`unsupported .npy dtype ${descr}`);
  return { dtype: descr, shape, data };
}

/** Read a .npy file. */
export async function readNpy(url: URL): Promise<Npy> {
  return parseNpy(await Deno.readFile(url));
}

/** One step of a golden index. */
export interface GoldenStep {
  step: number;
  pastLength: number;
  presentLength: number;
  cells: number[];
  inputIds: string;
  positionIds: string;
  attentionMask: string;
  logits: string;
}

/** Per-step result of a replay. */
export interface ReplayResult {
  step: number;
  maxAbsDiff: number;
  presentLength: number;
}

/** Replay every step of the golden folder `dir` (holding index.json) with onnxruntime-node. */
export async function replayGolden(
  dir: URL,
): Promise<{ tolerance: number; results: ReplayResult[] }> {
  const index = JSON.parse(await Deno.readTextFile(new URL("index.json", dir)));
  const manifestUrl = new URL(index.manifest, dir);
  const manifest = JSON.parse(await Deno.readTextFile(manifestUrl));
  const session = await ort.InferenceSession.create(
    Deno.realPathSync(new URL(manifest.onnx, manifestUrl)),
  );
  const batch: number = index.batch;
  const kv = [batch, manifest.kvHeads, 0, manifest.headDim];
  let past: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (let i = 0; i < manifest.layers; i++) {
    for (const n of ["key", "value"]) {
      past[`past.${i}.${n}`] = new ort.Tensor("float32", new Float32Array(0), kv);
    }
  }
  const results: ReplayResult[] = [];
  for (const step of index.steps as GoldenStep[]) {
    const ids = await readNpy(new URL(step.inputIds, dir));
    const pos = await readNpy(new URL(step.positionIds, dir));
    const mask = await readNpy(new URL(step.attentionMask, dir));
    const want = await readNpy(new URL(step.logits, dir));
    const feeds = {
      ...past,
      input_ids: new ort.Tensor("int64", ids.data as BigInt64Array, ids.shape),
      position_ids: new ort.Tensor("int64", pos.data as BigInt64Array, pos.shape),
      attention_mask: new ort.Tensor("bool", mask.data as Uint8Array, mask.shape),
    };
    const out = await session.run(feeds);
    const got = out.logits.data as Float32Array;
    const exp = want.data as Float32Array;
    if (got.length !== exp.length) {
      throw new Error(`step ${step.step}: logits size ${got.length} vs golden ${exp.length}`);
    }
    let maxAbsDiff = 0;
    for (let j = 0; j < got.length; j++) {
      const d = Math.abs(got[j] - exp[j]);
      if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
    }
    const next: typeof past = {};
    for (let i = 0; i < manifest.layers; i++) {
      for (const n of ["key", "value"]) next[`past.${i}.${n}`] = out[`present.${i}.${n}`];
    }
    past = next;
    results.push({ step: step.step, maxAbsDiff, presentLength: out["present.0.key"].dims[2] });
  }
  await session.release();
  return { tolerance: index.tolerance, results };
}

if (import.meta.main) {
  for (const arg of Deno.args) {
    const dir = new URL(arg.endsWith("/") ? arg : arg + "/", `file://${Deno.cwd()}/`);
    const { results } = await replayGolden(dir);
    console.log(arg, JSON.stringify(results.map((r) => [r.step, r.maxAbsDiff, r.presentLength])));
  }
}
