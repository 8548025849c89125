/**
 * Per-class dependency: the all-pairs analysis repeated on the samples of each class label.
 * Classes with fewer than `minRows` samples are skipped (their estimates would be mostly bias).
 * @module
 */
import {
  type DependencyOptions,
  type PairwiseDependency,
  pairwiseDependency,
} from "./dependency.ts";
import { rowsByClass, type TokenSet } from "./tokens.ts";

/** Dependency statistics of one class. */
export interface ClassDependency {
  /** Class label (index into the token set's classNames). */
  label: number;
  /** Class name, or `class <label>` when the set has no names. */
  name: string;
  /** The class's pairwise dependency. */
  dependency: PairwiseDependency;
}

/**
 * {@link pairwiseDependency} for every class with at least `minRows` samples (default 200).
 * @example
 * const perClass = await dependencyByClass(tokens, { minRows: 300, codeMap });
 */
export async function dependencyByClass(
  ts: TokenSet,
  options: DependencyOptions & { minRows?: number } = {},
): Promise<ClassDependency[]> {
  const minRows = options.minRows ?? 200;
  const out: ClassDependency[] = [];
  for (const [label, rows] of rowsByClass(ts)) {
    if (rows.length < minRows) continue;
    const name = ts.classNames?.[label] ?? `class ${label}`;
    const dependency = await pairwiseDependency(ts, {
      ...options,
      rows,
      label: options.label ? `${options.label} ${name}` : name,
    });
    out.push({ label, name, dependency });
  }
  return out;
}
