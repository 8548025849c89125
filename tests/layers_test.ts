/**
 * The layering, read from the imports: every module under src/ belongs to the layer of its
 * folder, and may import only from its own layer or a lower one; analysis/ sits above src/, the
 * programs in main/ above everything. No module graph may have a circle. The README's design
 * notes show the same order.
 */
import { assertEquals } from "./assert.ts";

/** Lowest first. A module may import from its own layer and the ones before it. */
export const LAYERS = [
  "src/deps",
  "src/util",
  "src/io",
  "src/media",
  "src/runtime",
  "src/schedule",
  "src/tokenizer",
  "src/data",
  "src/model",
  "src/sampler",
  "src/entropy",
  "src/metrics",
  "src/viz",
  "analysis",
  "main",
] as const;

const root = new URL("../", import.meta.url);

function* tsFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(new URL(dir, root))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* tsFiles(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

/** Relative imports and re-exports of a file, resolved to repository paths. */
function importsOf(path: string): string[] {
  const text = Deno.readTextFileSync(new URL(path, root));
  const specs = [
    ...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g),
    ...text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g),
    ...text.matchAll(/new URL\(\s*"(\.[^"]+\.ts)",\s*import\.meta\.url\)/g),
  ].map((m) => m[1]);
  return specs.map((s) => new URL(s, new URL(path, root)).pathname.slice(root.pathname.length));
}

function layerOf(path: string): number {
  return LAYERS.findIndex((l) => path === l || path.startsWith(`${l}/`));
}

const files = LAYERS.flatMap((l) => [...tsFiles(l)]);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

Deno.test("layers: no module imports from a layer above its own", () => {
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      const to = layerOf(dep);
      if (to === -1) upward.push(`${file} -> ${dep} (outside every layer)`);
      else if (to > layerOf(file)) upward.push(`${file} -> ${dep}`);
    }
  }
  assertEquals(upward, [], `upward imports (layers, lowest first: ${LAYERS.join(" < ")})`);
});

Deno.test("layers: the module graph has no circle", () => {
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assertEquals(circles, []);
});

Deno.test("layers: every src/ folder is a declared layer", () => {
  const folders = [...Deno.readDirSync(new URL("src", root))]
    .filter((e) => e.isDirectory).map((e) => `src/${e.name}`).sort();
  assertEquals(folders.filter((f) => !LAYERS.includes(f as typeof LAYERS[number])), []);
});
