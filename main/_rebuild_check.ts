/**
 * The `--check` half of the fixture builders (`deno task data:check`, `data:video:check`):
 * compare a rebuild with the committed files byte for byte and say which differ.
 * @module
 */

/** Compare `names` in `rebuilt` and `committed`; prints the verdict and returns the exit code. */
export async function compareRebuild(
  rebuilt: string,
  committed: string,
  names: readonly string[],
): Promise<number> {
  const differing: string[] = [];
  for (const name of names) {
    const a = await Deno.readFile(`${rebuilt}/${name}`);
    const b = await Deno.readFile(`${committed}/${name}`).catch(() => null);
    if (!b || a.length !== b.length || a.some((v, i) => v !== b[i])) differing.push(name);
  }
  if (differing.length > 0) {
    console.error(`rebuild differs from ${committed}: ${differing.join(", ")}`);
    return 1;
  }
  console.log(`rebuild is byte-identical to ${committed} (${names.length} files)`);
  return 0;
}
