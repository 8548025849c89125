/**
 * Command-line flags for the tasks: parsed with node:util's parseArgs, validated with zod, and
 * every mistake reported as one line naming the flag and the fix (never a stack trace).
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "../deps/zod.ts";
import { isUserError, UsageError } from "./errors.ts";
import { asPermissionError } from "./atomic.ts";

/** Thrown by {@link parseFlags} for `--help` / `-h`: the program prints the usage and exits 0. */
export class HelpRequested extends Error {
  /** The usage text to print. */
  readonly usage: string;

  /**
   * A request for the usage text.
   * @param usage the usage text to print
   */
  constructor(usage: string) {
    super(usage);
    this.usage = usage;
    this.name = "HelpRequested";
  }
}

/** A number as a person writes it: optional sign, decimal digits, fraction, exponent. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * `--flag -1.5` as `--flag=-1.5`: node's parseArgs reads a value that starts with a dash as a
 * missing value ("argument is ambiguous"), but a negative number after a value flag is a value.
 */
function joinNegativeValues(args: string[], valueFlags: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (valueFlags.has(a) && next !== undefined && next.startsWith("-") && NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Parse `--name value` / `--name=value` / `--flag` arguments and validate them with `schema`.
 * Flag names are kebab-case on the command line and camelCase in the result. Negative numbers
 * are values (`--cfg -1` reads -1, then the schema range-checks it). `--help` or `-h` throws
 * {@link HelpRequested}, which {@link runMain} prints with exit code 0.
 * @param booleans flags that take no value
 * @param usage one-line usage shown with errors
 */
export function parseFlags<S extends z.ZodObject>(
  args: string[],
  schema: S,
  booleans: string[] = [],
  usage = "",
): z.infer<S> {
  const keys = Object.keys(schema.shape);
  const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const k of keys) options[kebab(k)] = { type: booleans.includes(k) ? "boolean" : "string" };
  if (args.includes("--help") || args.includes("-h")) throw new HelpRequested(usage);
  const valueFlags = new Set(
    Object.entries(options).filter(([, o]) => o.type === "string").map(([k]) => `--${k}`),
  );
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: joinNegativeValues(args, valueFlags),
      options,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split("\n")[0]}. ${usage}`.trim());
  }
  const raw: Record<string, unknown> = {};
  for (const k of keys) if (values[kebab(k)] !== undefined) raw[k] = values[kebab(k)];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue.path.length ? `--${kebab(String(issue.path[0]))}` : "flags";
    throw new UsageError(`${flag}: ${issue.message}. ${usage}`.trim());
  }
  return parsed.data;
}

/**
 * A number flag given as text: `--top-k 40`, `--cfg 1.5`, `--seed -3`, `--lr 2e-3`. Only decimal
 * notation is a number (`0x1`, `1_000`, `Infinity` and an empty value are refused).
 */
export const numberFlag = (): z.ZodPipe<z.ZodString, z.ZodTransform<number, string>> =>
  z.string().transform((s, ctx) => {
    const n = Number(s);
    if (!NUMBER.test(s.trim()) || !Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: `"${s}" is not a number (write it in decimal)` });
      return z.NEVER;
    }
    return n;
  });

/**
 * A comma-separated list flag: `--classes 0,3,7`. Empty items (`0,,1`, a trailing comma, an
 * empty value) are refused rather than read as something.
 */
export function listFlag(flag: string, value: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new UsageError(
      `--${flag}: "${value}" has an empty item. Fix: a comma-separated list such as 0,3,7`,
    );
  }
  return items;
}

/**
 * Run `fn` (sync or async) for one flag's value: a user error it throws (a missing model file,
 * an unknown schedule name) comes back as a {@link UsageError} that starts with the flag, the
 * library's own field name (`schedule: ...`) giving way to it.
 * @example
 * const model = await flagError("--model", () => loadModel(path));
 */
export function flagError<T>(flag: string, fn: () => T): T {
  const rename = (err: unknown): never => {
    if (!isUserError(err)) throw err;
    const field = `${flag.replace(/^--/, "")}: `;
    const message = err.message.startsWith(field) ? err.message.slice(field.length) : err.message;
    throw new UsageError(`${flag}: ${message}`);
  };
  try {
    const out = fn();
    return (out instanceof Promise ? out.catch(rename) : out) as T;
  } catch (err) {
    return rename(err);
  }
}

/**
 * Run a task's main function: user errors print one line and exit 1; anything else is a bug
 * and keeps its stack.
 */
export async function runMain(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.usage || `${name}: no usage text`);
      Deno.exit(0);
    }
    // A permission Deno refused deep inside a library call: one line naming the flag to add.
    const permission = asPermissionError(err);
    if (permission) {
      console.error(`${name}: ${permission.message}`);
      Deno.exit(1);
    }
    if (isUserError(err)) console.error(`${name}: ${err.message}`);
    else console.error(`${name} failed:`, err);
    Deno.exit(1);
  }
}
