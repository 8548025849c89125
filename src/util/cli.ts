/**
 * Command-line flags for the tasks: parsed with node:util's parseArgs, validated with zod, and
 * every mistake reported as one line naming the flag and the fix (never a stack trace).
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "../deps/zod.ts";
import { isUserError, UsageError } from "./errors.ts";

/**
 * Parse `--name value` / `--name=value` / `--flag` arguments and validate them with `schema`.
 * Flag names are kebab-case on the command line and camelCase in the result.
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
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
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

/** A number flag given as text: `--top-k 40`. */
export const numberFlag = (): z.ZodPipe<z.ZodString, z.ZodTransform<number, string>> =>
  z.string().transform((s, ctx) => {
    const n = Number(s);
    if (s.trim() === "" || !Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: `"${s}" is not a number` });
      return z.NEVER;
    }
    return n;
  });

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
    if (isUserError(err)) console.error(`${name}: ${err.message}`);
    else console.error(`${name} failed:`, err);
    Deno.exit(1);
  }
}
