/**
 * Reference statistics for FID and sFID: read from ADM's reference batches (`.npz` with `mu`,
 * `sigma` over Inception pool features and `mu_s`, `sigma_s` over its spatial features), or
 * written by parlab from any feature moments (an image folder, a token set, merged shards) in the
 * same layout, so either kind scores against the other.
 * @module
 */
import { readNpz, writeNpz } from "../io/npz.ts";
import { readFileBytes } from "../runtime/files.ts";
import { toUrl } from "../io/read.ts";
import type { NpyArray } from "../io/npy.ts";
import { ManifestError } from "../util/errors.ts";
import type { FeatureStats } from "./features.ts";

/** The statistics a FID/sFID evaluation compares against. */
export interface ReferenceStats {
  /** Pool features (2048-d for Inception): FID. */
  pool: FeatureStats;
  /** Spatial features (ADM: the first 7 channels of mixed_6/conv, 2023-d): sFID; when present. */
  spatial?: FeatureStats;
  /** Number of pictures behind the statistics, when the file says (`arr_0`, or parlab's `n`). */
  n?: number;
}

function statsOf(mu: NpyArray, sigma: NpyArray, name: string, n: number): FeatureStats {
  const d = mu.shape[0];
  if (
    mu.shape.length !== 1 || sigma.shape.length !== 2 || sigma.shape[0] !== d ||
    sigma.shape[1] !== d
  ) {
    throw new ManifestError(
      `${name}: mu has shape (${mu.shape}) and sigma (${sigma.shape}); expected (d) and (d, d). ` +
        "Fix: pass a reference batch written by ADM's evaluator or by parlab",
    );
  }
  return {
    n,
    d,
    mean: Float64Array.from(mu.data as ArrayLike<number>),
    cov: Float64Array.from(sigma.data as ArrayLike<number>),
  };
}

/**
 * Read reference statistics from an `.npz` (a path or URL). A file without `mu` and `sigma`
 * (e.g. pictures only) is an error that names the fix.
 * @example
 * const ref = await loadReferenceStats("VIRTUAL_imagenet256_labeled.npz");
 */
export async function loadReferenceStats(location: string | URL): Promise<ReferenceStats> {
  const url = toUrl(location);
  const name = url.pathname.split("/").at(-1)!;
  const have: string[] = [];
  const arrays = readNpz(await readFileBytes(url), {
    name,
    only: ["mu", "sigma", "mu_s", "sigma_s", "n"],
    names: have,
  });
  if (!arrays.mu || !arrays.sigma) {
    throw new ManifestError(
      `${name}: has no mu/sigma statistics${
        have.length ? ` (it holds ${have.join(", ")})` : ""
      }. ` +
        "Fix: compute them from its pictures with `deno task fid --stats-from <pictures>`, or " +
        "pass ADM's reference batch (VIRTUAL_imagenet256_labeled.npz)",
    );
  }
  const n = arrays.n ? Number((arrays.n.data as ArrayLike<number>)[0]) : NaN;
  const pool = statsOf(arrays.mu, arrays.sigma, name, n);
  const spatial = arrays.mu_s && arrays.sigma_s
    ? statsOf(arrays.mu_s, arrays.sigma_s, name, n)
    : undefined;
  return { pool, ...(spatial ? { spatial } : {}), ...(Number.isFinite(n) ? { n } : {}) };
}

/** Reference statistics as `.npz` bytes in ADM's layout (plus `n`). */
export function encodeReferenceStats(ref: ReferenceStats): Uint8Array {
  const arrays: Record<string, NpyArray> = {
    mu: { dtype: "float64", shape: [ref.pool.d], data: ref.pool.mean },
    sigma: { dtype: "float64", shape: [ref.pool.d, ref.pool.d], data: ref.pool.cov },
    n: { dtype: "int32", shape: [1], data: Int32Array.of(ref.n ?? ref.pool.n) },
  };
  if (ref.spatial) {
    arrays.mu_s = { dtype: "float64", shape: [ref.spatial.d], data: ref.spatial.mean };
    arrays.sigma_s = {
      dtype: "float64",
      shape: [ref.spatial.d, ref.spatial.d],
      data: ref.spatial.cov,
    };
  }
  return writeNpz(arrays);
}
