/**
 * One writer per output folder: a lock file naming its holder (pid, host, start time), taken
 * with an exclusive create so two runs cannot both get it. A lock whose process is gone (same
 * host, no such pid) is stale and taken over.
 * @module
 */
import { UsageError } from "./errors.ts";

/** Who holds a folder's lock. */
export interface LockHolder {
  /** Process id of the holder. */
  pid: number;
  /** Host name of the holder. */
  host: string;
  /** ISO time the lock was taken. */
  started: string;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

function alive(holder: LockHolder): boolean {
  if (holder.host !== hostName()) return true; // another machine: assume it runs
  if (Deno.build.os !== "linux") return true;
  try {
    Deno.statSync(`/proc/${holder.pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Take `<dir>/.parlab.lock` (creating `dir`), or throw a {@link UsageError} naming the run that
 * holds it. Returns the release function (idempotent).
 * @param flag the flag that named the folder, for the message (e.g. `--out`)
 */
export async function lockFolder(
  dir: string,
  flag = "--out",
  warn: (message: string) => void = console.warn,
): Promise<() => Promise<void>> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/.parlab.lock`;
  const me: LockHolder = { pid: Deno.pid, host: hostName(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      await file.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
      file.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await Deno.remove(path).catch(() => {});
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    let holder: LockHolder | null = null;
    try {
      holder = JSON.parse(await Deno.readTextFile(path));
    } catch {
      holder = null; // half-written or unreadable: treat as stale
    }
    if (holder && alive(holder)) {
      throw new UsageError(
        `${flag}: ${dir} is being written by another run (pid ${holder.pid} on ${holder.host}, ` +
          `since ${holder.started}). Fix: wait for it to finish, or choose another ${flag}`,
      );
    }
    warn(
      `${flag}: taking over ${path} from a run that is gone` +
        (holder ? ` (pid ${holder.pid}, since ${holder.started})` : ""),
    );
    await Deno.remove(path).catch(() => {});
  }
  throw new UsageError(`${flag}: could not lock ${dir}. Fix: remove ${path} if no run uses it`);
}
