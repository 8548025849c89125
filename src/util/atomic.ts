/**
 * Atomic file writes: a reader never sees a half-written result, and an interrupted run leaves
 * either the old file or the new one. Also home of the mapping from Deno's "permission not
 * granted" errors on files to a parlab {@link PermissionError} naming the flag to add.
 * @module
 */
import { PermissionError } from "../deps/_native.ts";

/** True for Deno's "permission not granted" errors (NotCapable in Deno 2, PermissionDenied before). */
export function isNotCapable(err: unknown): boolean {
  const errors = Deno.errors as unknown as Record<string, (new () => Error) | undefined>;
  return ["NotCapable", "PermissionDenied"].some((name) => {
    const cls = errors[name];
    return cls !== undefined && err instanceof cls;
  });
}

/**
 * A {@link PermissionError} for a file operation Deno refused, naming the flag to add scoped to
 * `path`: `cannot write out/x.png: Requires write access ... Fix: run deno with
 * --allow-write=out (or --allow-write)`.
 * @param access `read` or `write`
 * @param path the file or folder the flag should name
 */
export function filePermissionError(
  access: "read" | "write",
  path: string,
  err: unknown,
): PermissionError {
  const first = (err as Error).message.split("\n")[0];
  return new PermissionError(
    `cannot ${access} ${path}: ${first}. Fix: run deno with --allow-${access}=${path} ` +
      `(or --allow-${access})`,
  );
}

/**
 * Any permission error Deno raised, as a one-line {@link PermissionError} naming the flag to add
 * (read off Deno's own message: `Requires write access to "out/x", run again with the
 * --allow-write flag` gives `--allow-write=out/x`); null for other errors. For the programs'
 * last line of defence: library code names the flag where it knows better.
 * @example
 * try { await main(); } catch (err) { const p = asPermissionError(err); if (p) console.error(p.message); }
 */
export function asPermissionError(err: unknown): PermissionError | null {
  if (err instanceof PermissionError) return err;
  if (!isNotCapable(err)) return null;
  const first = (err as Error).message.split("\n")[0];
  const m = /Requires (\w+) access(?: to "([^"]*)")?/.exec(first);
  const kind = m?.[1] ?? "all";
  const scope = m?.[2] ? `=${m[2]}` : "";
  const flag = kind === "all" ? "-A" : `--allow-${kind}${scope}`;
  return new PermissionError(
    `${first.replace(/, run again with the [^ ]+ flag$/, "")}. Fix: run deno with ${flag}` +
      (scope ? ` (or --allow-${kind})` : ""),
  );
}

/** `%xx` escapes of a URL path decoded (a malformed one left as it is). */
function pathText(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Write `data` to `path` through a temporary file in the same folder and a rename.
 * Creates the parent folder when missing. A missing write permission is a
 * {@link PermissionError} naming `--allow-write` and the folder.
 * @example
 * await writeFileAtomic("out/result.json", JSON.stringify({ ok: true }));
 */
export async function writeFileAtomic(
  path: string | URL,
  data: string | Uint8Array,
): Promise<void> {
  const target = path instanceof URL ? pathText(path.pathname) : path;
  const slash = target.lastIndexOf("/");
  const folder = slash > 0 ? target.slice(0, slash) : slash === 0 ? "/" : ".";
  const tmp = `${target}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (slash > 0) await Deno.mkdir(folder, { recursive: true });
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, target);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    if (isNotCapable(err)) throw filePermissionError("write", folder, err);
    throw err;
  }
}
