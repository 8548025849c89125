/**
 * Minimal assertions for the tests (jsr:@std/assert cannot be fetched here). Deep equality goes
 * through node:assert's strict deep equality, which knows typed arrays, maps and sets.
 * @module
 */
import { deepStrictEqual } from "node:assert";

/** Throw unless `cond` is truthy. */
export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new Error(message);
}

/** Throw unless `actual` deep-equals `expected`. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  // Without a message node:assert writes a diff; @types/node 26 takes no `undefined` here.
  if (message === undefined) deepStrictEqual(actual, expected);
  else deepStrictEqual(actual, expected, message);
}

/** Throw unless |actual - expected| <= tolerance. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  message?: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(message ?? `expected ${expected} ± ${tolerance}, got ${actual}`);
  }
}

/** Run `fn`, expect it to throw an instance of `cls`, and return the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls?: new (...args: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (err) {
    if (cls && !(err instanceof cls)) throw new Error(`expected ${cls.name}, got ${String(err)}`);
    if (includes && !(err as Error).message.includes(includes)) {
      throw new Error(`error message "${(err as Error).message}" lacks "${includes}"`);
    }
    return err as E;
  }
  throw new Error("expected the function to throw");
}

/** Await `fn`, expect it to reject with an instance of `cls`, and return the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls?: new (...args: never[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (cls && !(err instanceof cls)) throw new Error(`expected ${cls.name}, got ${String(err)}`);
    if (includes && !(err as Error).message.includes(includes)) {
      throw new Error(`error message "${(err as Error).message}" lacks "${includes}"`);
    }
    return err as E;
  }
  throw new Error("expected the promise to reject");
}
