/**
 * Atomic file writes: a reader never sees a half-written result, and an interrupted run leaves
 * either the old file or the new one.
 * @module
 */

/**
 * Write `data` to `path` through a temporary file in the same folder and a rename.
 * Creates the parent folder when missing.
 * @example
 * await writeFileAtomic("out/result.json", JSON.stringify({ ok: true }));
 */
export async function writeFileAtomic(
  path: string | URL,
  data: string | Uint8Array,
): Promise<void> {
  const target = path instanceof URL ? path.pathname : path;
  const slash = target.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(target.slice(0, slash), { recursive: true });
  const tmp = `${target}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, target);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
