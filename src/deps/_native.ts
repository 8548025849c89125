/**
 * Loading native npm packages on first use, with a parlab message when Deno's permissions stop
 * them (instead of the package's own `NotCapable` stack).
 * @module
 */

/** A native package could not load because a Deno permission is missing. */
export class PermissionError extends Error {
  /**
   * @param message one line naming the package, the missing permission and the flag to add
   */
  constructor(message: string) {
    super(message);
    this.name = "PermissionError";
  }
}

/** True for Deno's "permission not granted" errors (NotCapable in Deno 2, PermissionDenied before). */
function isPermissionError(err: unknown): boolean {
  const errors = Deno.errors as unknown as Record<string, (new () => Error) | undefined>;
  return ["NotCapable", "PermissionDenied"].some((name) => {
    const cls = errors[name];
    return cls !== undefined && err instanceof cls;
  });
}

/**
 * Import a native package lazily; a missing permission becomes a {@link PermissionError} that
 * names the flags the package needs.
 * @param what the package, as the user would name it
 * @param flags the Deno flags it needs, e.g. `--allow-ffi --allow-env --allow-read --allow-sys`
 */
export async function importNative<T>(
  what: string,
  flags: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isPermissionError(err)) {
      throw new PermissionError(
        `${what} could not load: ${(err as Error).message.split("\n")[0]}. ` +
          `Fix: run deno with ${flags} (or -A)`,
      );
    }
    throw err;
  }
}
