/**
 * Loading hardening: bounded reads (a stalled server, an endless body, `/dev/zero`, declared
 * sizes), streaming sha256 for graphs and codebooks, referenced files confined to the manifest's
 * folder or origin, and the step contract checked on the way out, at load (declared outputs,
 * dtypes, fixed axes) and at every step (logits [B, T, V], cache growth, non-finite logits), on
 * the CPU backend and, where an adapter exists, on WebGPU. The broken graphs are
 * tests/fixtures_bad/*.onnx (tests/fixtures_bad/make.py writes them). Every local server listens
 * on 127.0.0.1, and every timeout here is well under a second.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { gzip, readBytes, readText, sha256Hex } from "../src/io/mod.ts";
import {
  type ARModel,
  loadModel,
  loadModelTokenizer,
  loadOnnxModel,
  loadWebGpuModel,
  type StepInputs,
} from "../src/model/mod.ts";
import { readManifestJson, resolveReference, webGpuAdapterInfo } from "../src/runtime/mod.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/mod.ts";
import { ImageFeatureExtractor } from "../src/metrics/image_features.ts";
import { ManifestError } from "../src/util/mod.ts";

const bad = new URL("./fixtures_bad/", import.meta.url);
const models = new URL("../fixtures/models/", import.meta.url);
const emoji = new URL("../fixtures/emoji/", import.meta.url);
const classifier = new URL("../fixtures/classifier/", import.meta.url);

/** A local HTTP server on 127.0.0.1; `close()` releases any handler still waiting, then stops. */
function serve(
  handler: (req: Request, released: Promise<void>) => Response | Promise<Response>,
): { base: string; close: () => Promise<void> } {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => handler(req, released),
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}/`,
    close: async () => {
      release();
      await server.shutdown();
    },
  };
}

/** Serve the files of `dir` (no `..`), and extra bodies by path. */
function serveFiles(dir: URL, extra: Record<string, string> = {}) {
  return serve(async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname).slice(1);
    if (path in extra) return new Response(extra[path]);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      return new Response(await Deno.readFile(new URL(path, dir)));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

/** Time `fn`, in seconds. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, (performance.now() - t0) / 1000];
}

/** The message of `fn`'s rejection, asserting its class and that it is one line. */
async function message(
  fn: () => Promise<unknown>,
  cls: new (...args: never[]) => Error = ManifestError,
): Promise<string> {
  const err = await assertRejects(fn, cls);
  assert(!err.message.includes("\n"), `not one line: ${err.message}`);
  assert(err.message.includes("Fix:"), `names no fix: ${err.message}`);
  return err.message;
}

/** One step of `rows` rows x 1 slot on an empty cache (class token 0's id, position -1). */
function firstStep(model: ARModel, rows = 2): StepInputs {
  const ids = new BigInt64Array(rows).fill(BigInt(model.manifest.vocabSize));
  return {
    batch: rows,
    length: 1,
    inputIds: ids,
    positionIds: new BigInt64Array(rows).fill(-1n),
    attentionMask: new Uint8Array(rows).fill(1),
  };
}

/** A temp folder holding `files` (name -> bytes or JSON value). */
async function folder(files: Record<string, Uint8Array | unknown>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "parlab-load-" });
  for (const [name, v] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    if (v instanceof Uint8Array) await Deno.writeFile(`${dir}/${name}`, v);
    else await Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(v));
  }
  return dir;
}

const okJson = JSON.parse(await Deno.readTextFile(new URL("ok.json", bad)));
const okOnnx = await Deno.readFile(new URL("ok.onnx", bad));

// ---------------------------------------------------------------------------------------------
// Remote reads: time and size bounds

Deno.test("a server that never responds ends with a timeout error naming timeoutMs", async () => {
  const srv = serve(async (_req, released) => {
    await released;
    return new Response("late");
  });
  try {
    const [msg, s] = await timed(() =>
      message(() => readBytes(new URL("m.json", srv.base), { timeoutMs: 300 }))
    );
    assert(msg.includes("no response within 0.3 s") && msg.includes("stalled"), msg);
    assert(msg.includes("timeoutMs"), msg);
    assert(s < 5, `took ${s} s`);
    // Through the model loader too: the manifest read is bounded by the same option.
    const load = await message(() => loadOnnxModel(`${srv.base}m.json`, { timeoutMs: 300 }));
    assert(load.includes("stalled"), load);
  } finally {
    await srv.close();
  }
});

Deno.test("a body that stalls after its first bytes ends with a timeout error", async () => {
  const srv = serve((_req, released) =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(new Uint8Array(10));
          await released;
          c.close();
        },
      }),
    )
  );
  try {
    const [msg, s] = await timed(() =>
      message(() => readBytes(new URL("x.onnx", srv.base), { timeoutMs: 300 }))
    );
    assert(msg.includes("no data within 0.3 s"), msg);
    assert(s < 5, `took ${s} s`);
  } finally {
    await srv.close();
  }
});

Deno.test("a slow download that keeps moving is not cut off by the timeout", async () => {
  let sent = 0;
  const srv = serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 60));
          if (sent++ === 6) c.close();
          else c.enqueue(new Uint8Array(100).fill(sent));
        },
      }),
    )
  );
  try {
    // 6 chunks 60 ms apart: 360 ms in all, longer than the 250 ms timeout, but never idle for it.
    const bytes = await readBytes(new URL("slow", srv.base), { timeoutMs: 250 });
    assertEquals(bytes.length, 600);
    assertEquals(bytes[599], 6);
  } finally {
    await srv.close();
  }
});

Deno.test("an endless body stops at the size limit", async () => {
  const srv = serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(new Uint8Array(65536));
        },
      }),
    )
  );
  try {
    const msg = await message(() => readBytes(new URL("big", srv.base), { maxBytes: 1 << 20 }));
    assert(msg.includes("more than the limit of 1048576 bytes"), msg);
    assert(msg.includes("maxBytes"), msg);
    // A manifest: the 16 MiB default for JSON.
    const [m, s] = await timed(() => message(() => readManifestJson(`${srv.base}m.json`)));
    assert(m.includes("16777216") && m.includes("maxManifestBytes"), m);
    assert(s < 20, `took ${s} s`);
  } finally {
    await srv.close();
  }
});

Deno.test("a Content-Length over the limit is refused before the body is read", async () => {
  const srv = serve(() =>
    new Response(new Uint8Array(4096), { headers: { "content-length": "4096" } })
  );
  try {
    const msg = await message(() => readBytes(new URL("x", srv.base), { maxBytes: 1000 }));
    assert(msg.includes("4096 bytes is more than the limit of 1000"), msg);
    const declared = await message(() => readBytes(new URL("x", srv.base), { expectedBytes: 100 }));
    assert(declared.includes("has 4096 bytes but the manifest declares 100"), declared);
  } finally {
    await srv.close();
  }
});

Deno.test("HTTP errors and unsupported URL schemes are one-line ManifestErrors", async () => {
  const srv = serveFiles(bad);
  try {
    const msg = await message(() => readBytes(new URL("missing.json", srv.base)));
    assert(msg.includes("HTTP 404"), msg);
  } finally {
    await srv.close();
  }
  const data = await message(() => readBytes(new URL("data:,hello")));
  assert(data.includes("data: URLs are not supported"), data);
});

// ---------------------------------------------------------------------------------------------
// Local reads

Deno.test("/dev/zero stops at the limit: as a manifest (16 MiB) and as a codebook", async () => {
  const [msg, s] = await timed(() => message(() => loadOnnxModel("/dev/zero")));
  assert(msg.includes("/dev/zero") && msg.includes("maxManifestBytes"), msg);
  assert(s < 20, `took ${s} s`);
  const book = await message(() => PatchKMeansTokenizer.load("/dev/zero", { maxBytes: 1 << 20 }));
  assert(book.includes("more than the limit of 1048576 bytes"), book);
});

Deno.test("local files: over the limit, a folder, missing, declared sizes, text", async () => {
  const dir = await folder({ "a.bin": new Uint8Array(5000) });
  try {
    const over = await message(() => readBytes(`${dir}/a.bin`, { maxBytes: 4096 }));
    assert(over.includes("5000 bytes is more than the limit of 4096"), over);
    assertEquals((await readBytes(`${dir}/a.bin`, { maxBytes: 5000 })).length, 5000);
    const isDir = await message(() => readBytes(dir));
    assert(isDir.includes("it is a folder"), isDir);
    const missing = await message(() => readBytes(`${dir}/nope`));
    assert(missing.includes("cannot read") && missing.includes("nope"), missing);
    const declared = await message(() => readBytes(`${dir}/a.bin`, { expectedBytes: 4999 }));
    assert(declared.includes("has 5000 bytes but the manifest declares 4999"), declared);
    // Names with URL syntax in them are names.
    await Deno.writeTextFile(`${dir}/a #1?.txt`, "hi");
    assertEquals(await readText(`${dir}/a #1?.txt`), "hi");
    const streamed: number[] = [];
    await readBytes(`${dir}/a.bin`, { onChunk: (c) => streamed.push(c.length) });
    assertEquals(streamed.reduce((a, b) => a + b, 0), 5000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// sha256 of graphs and codebooks, declared sizes

Deno.test("codebooks are hashed: tokenizer.sha256 and tokenizer.bytes are checked", async () => {
  const book = await Deno.readFile(new URL("codebook.npy.gz", emoji));
  const manifest = JSON.parse(await Deno.readTextFile(new URL("tiny-par4.json", models)));
  const onnx = await Deno.readFile(new URL("tiny-par4.onnx", models));
  const sha = await sha256Hex(book);
  const tokenizer = (extra: Record<string, unknown>) => ({
    ...manifest,
    tokenizer: { kind: "patch-kmeans", codebook: "codebook.npy.gz", ...extra },
  });
  const dir = await folder({
    "tiny-par4.onnx": onnx,
    "codebook.npy.gz": book,
    "good.json": tokenizer({ sha256: sha, bytes: book.length }),
    "bad-hash.json": tokenizer({ sha256: "0".repeat(64) }),
    "bad-size.json": tokenizer({ bytes: book.length + 1 }),
    "bad-field.json": tokenizer({ sha256: "xyz" }),
    "no-hash.json": tokenizer({}),
  });
  try {
    const good = await loadOnnxModel(`${dir}/good.json`);
    assertEquals((await loadModelTokenizer(good)).vocabSize, 1024);
    await good.dispose();
    const plain = await loadOnnxModel(`${dir}/no-hash.json`);
    assertEquals((await loadModelTokenizer(plain)).vocabSize, 1024);
    await plain.dispose();
    const hashed = await loadOnnxModel(`${dir}/bad-hash.json`);
    try {
      const msg = await message(() => loadModelTokenizer(hashed));
      assert(msg.includes(`codebook.npy.gz: sha256 ${sha} differs`), msg);
    } finally {
      await hashed.dispose();
    }
    const sized = await loadOnnxModel(`${dir}/bad-size.json`);
    try {
      const msg = await message(() => loadModelTokenizer(sized));
      assert(msg.includes(`has ${book.length} bytes but the manifest declares`), msg);
    } finally {
      await sized.dispose();
    }
    const field = await message(() => loadOnnxModel(`${dir}/bad-field.json`));
    assert(field.includes('field "tokenizer.sha256"'), field);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad codebook file is a ManifestError naming it", async () => {
  const dir = await folder({
    "text.npy": new TextEncoder().encode("not numpy"),
    "bomb.npy.gz": gzip(new Uint8Array(3000)),
    "shape.npy.gz": await Deno.readFile(new URL("train.labels.npy.gz", emoji)),
  });
  try {
    const text = await message(() => PatchKMeansTokenizer.load(`${dir}/text.npy`));
    assert(text.includes("text.npy: not a .npy file"), text);
    const bomb = await message(() =>
      PatchKMeansTokenizer.load(`${dir}/bomb.npy.gz`, { maxBytes: 2000 })
    );
    assert(bomb.includes("would decompress to 3000 bytes"), bomb);
    const shape = await message(() => PatchKMeansTokenizer.load(`${dir}/shape.npy.gz`));
    assert(shape.includes("codebook dtype is"), shape);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the graph's declared size (manifest bytes) is checked", async () => {
  const dir = await folder({
    "ok.onnx": okOnnx,
    "m.json": { ...okJson, bytes: okOnnx.length + 3 },
    "fine.json": { ...okJson, bytes: okOnnx.length },
  });
  try {
    const msg = await message(() => loadOnnxModel(`${dir}/m.json`));
    assert(msg.includes(`has ${okOnnx.length} bytes but the manifest declares`), msg);
    await (await loadOnnxModel(`${dir}/fine.json`)).dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Confinement

Deno.test("a local manifest's files stay in its folder unless allowOutside", async () => {
  const dir = await folder({
    "outside.onnx": okOnnx,
    "m/ok.onnx": okOnnx,
    "m/up.json": { ...okJson, onnx: "../outside.onnx" },
    "m/upup.json": { ...okJson, onnx: "../../../../../../etc/passwd" },
    "m/encoded.json": { ...okJson, onnx: "%2e%2e/outside.onnx" },
    "m/backslash.json": { ...okJson, onnx: "..\\outside.onnx" },
    "m/fine.json": { ...okJson, onnx: "./sub/../ok.onnx" },
  });
  try {
    await Deno.writeTextFile(
      `${dir}/m/abs.json`,
      JSON.stringify({ ...okJson, onnx: "/etc/passwd" }),
    );
    await Deno.writeTextFile(
      `${dir}/m/url.json`,
      JSON.stringify({ ...okJson, onnx: `file://${dir}/outside.onnx` }),
    );
    for (const name of ["up", "upup", "encoded", "backslash"]) {
      const msg = await message(() => loadOnnxModel(`${dir}/m/${name}.json`));
      assert(msg.includes(`${name}.json: field "onnx"`), msg);
      assert(msg.includes("points outside") && msg.includes("allowOutside: true"), msg);
    }
    const abs = await message(() => loadOnnxModel(`${dir}/m/abs.json`));
    assert(abs.includes('field "onnx" ("/etc/passwd") is an absolute path'), abs);
    const url = await message(() => loadOnnxModel(`${dir}/m/url.json`));
    assert(url.includes("is an absolute URL"), url);
    await (await loadOnnxModel(`${dir}/m/fine.json`)).dispose();
    // Opting in reads them.
    for (const name of ["up", "url", "backslash"]) {
      await (await loadOnnxModel(`${dir}/m/${name}.json`, { allowOutside: true })).dispose();
    }
    // A root above the manifest's folder widens the confinement to it.
    const root = new URL(`file://${dir}/`);
    await (await loadOnnxModel(`${dir}/m/up.json`, { root })).dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a codebook outside the manifest's folder is refused; the committed models keep theirs", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("tiny-par4.json", models)));
  const dir = await folder({
    "m/tiny-par4.onnx": await Deno.readFile(new URL("tiny-par4.onnx", models)),
    "m/tiny.json": manifest, // codebook "../emoji/codebook.npy.gz"
    "emoji/codebook.npy.gz": await Deno.readFile(new URL("codebook.npy.gz", emoji)),
  });
  try {
    const model = await loadOnnxModel(`${dir}/m/tiny.json`);
    try {
      const msg = await message(() => loadModelTokenizer(model));
      assert(msg.includes('field "tokenizer.codebook" ("../emoji/codebook.npy.gz")'), msg);
      assert(msg.includes("allowOutside: true"), msg);
      assertEquals(
        (await loadModelTokenizer(model, undefined, { allowOutside: true })).vocabSize,
        1024,
      );
    } finally {
      await model.dispose();
    }
    // The option given at load carries over to the tokenizer.
    const trusted = await loadModel(`${dir}/m/tiny.json`, { allowOutside: true });
    assertEquals((await loadModelTokenizer(trusted)).vocabSize, 1024);
    await trusted.dispose();
    // The committed models share fixtures/emoji/codebook.npy.gz: inside the committed fixtures.
    const committed = await loadOnnxModel(new URL("tiny-par4.json", models));
    assertEquals((await loadModelTokenizer(committed)).vocabSize, 1024);
    await committed.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a remote manifest stays on its origin and never reaches file: URLs", async () => {
  const local = `file://${new URL("ok.onnx", bad).pathname}`;
  const other = serveFiles(bad);
  const srv = serveFiles(bad, {
    "m/file.json": JSON.stringify({ ...okJson, onnx: local }),
    "m/abs-path.json": JSON.stringify({ ...okJson, onnx: "/ok.onnx" }),
    "m/up.json": JSON.stringify({ ...okJson, onnx: "../ok.onnx" }),
    "m/other.json": JSON.stringify({ ...okJson, onnx: `${other.base}ok.onnx` }),
  });
  try {
    // The same graph over HTTP loads and runs.
    const model = await loadOnnxModel(`${srv.base}ok.json`);
    await model.step(model.newCache(2), firstStep(model));
    await model.dispose();
    for (const options of [{}, { allowOutside: true }]) {
      const msg = await message(() => loadOnnxModel(`${srv.base}m/file.json`, options));
      assert(msg.includes('field "onnx"') && msg.includes("is a file: URL"), msg);
      assert(msg.includes("never reads local files"), msg);
    }
    const cross = await message(() => loadOnnxModel(`${srv.base}m/other.json`));
    assert(cross.includes("another origin") && cross.includes("allowOutside"), cross);
    await (await loadOnnxModel(`${srv.base}m/other.json`, { allowOutside: true })).dispose();
    // Paths on the manifest's own origin are its origin's.
    await (await loadOnnxModel(`${srv.base}m/abs-path.json`)).dispose();
    await (await loadOnnxModel(`${srv.base}m/up.json`)).dispose();
    // Checked before any read: resolveReference alone.
    const base = new URL(`${srv.base}m/x.json`);
    assertEquals(resolveReference(base, { file: "a.onnx" }).href, `${srv.base}m/a.onnx`);
  } finally {
    await srv.close();
    await other.close();
  }
});

Deno.test("a feature manifest's graph is confined, hashed and size-checked too", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("emoji-cnn.json", classifier)));
  const onnx = await Deno.readFile(new URL(manifest.onnx, classifier));
  const dir = await folder({
    [`m/${manifest.onnx}`]: onnx,
    [manifest.onnx]: onnx,
    "m/up.json": { ...manifest, onnx: `../${manifest.onnx}` },
    "m/size.json": { ...manifest, bytes: 1 },
  });
  try {
    const up = await message(() => ImageFeatureExtractor.load(`${dir}/m/up.json`));
    assert(up.includes('field "onnx"') && up.includes("points outside"), up);
    const size = await message(() => ImageFeatureExtractor.load(`${dir}/m/size.json`));
    assert(size.includes("manifest declares 1"), size);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The step contract, at load and on the way out of a step

Deno.test("step contract at load: missing outputs, int32 ids, fixed axes, layers", async () => {
  const noPresent = await message(() => loadOnnxModel(new URL("no-present.json", bad)));
  assert(noPresent.includes("lacks outputs present.0.key, present.0.value"), noPresent);
  assert(!noPresent.includes("input"), `blames an input: ${noPresent}`);
  const int32 = await message(() => loadOnnxModel(new URL("int32-ids.json", bad)));
  assert(int32.includes('input "input_ids" is int32') && int32.includes("int64"), int32);
  const dir = await folder({
    "ok.onnx": okOnnx,
    "vocab.json": { ...okJson, vocabSize: 9 },
    "layers.json": { ...okJson, layers: 2 },
    "heads.json": { ...okJson, heads: 2, kvHeads: 2 },
  });
  try {
    const vocab = await message(() => loadOnnxModel(`${dir}/vocab.json`));
    assert(vocab.includes('output "logits" is declared [batch, step, 8]'), vocab);
    assert(vocab.includes("[batch, slots, 9]") && vocab.includes("ok.onnx (manifest ok)"), vocab);
    const layers = await message(() => loadOnnxModel(`${dir}/layers.json`));
    assert(layers.includes("lacks inputs past.1.key, past.1.value"), layers);
    assert(layers.includes("the manifest says 2 layers"), layers);
    const heads = await message(() => loadOnnxModel(`${dir}/heads.json`));
    assert(heads.includes('"past.0.key" is declared [batch, 1, past, 2]'), heads);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("step contract at a step: narrower or wider logits, NaN logits; a good graph runs", async () => {
  const ok = await loadOnnxModel(new URL("ok.json", bad));
  try {
    const cache = ok.newCache(2);
    const out = await ok.step(cache, firstStep(ok));
    assertEquals(out.logits.length, 2 * 8);
    assertEquals(cache.length, 1);
  } finally {
    await ok.dispose();
  }
  for (const [name, word] of [["narrow", "narrower"], ["wide", "wider"]]) {
    const model = await loadOnnxModel(new URL(`${name}.json`, bad));
    try {
      const cache = model.newCache(2);
      const msg = await message(() => model.step(cache, firstStep(model)));
      assert(msg.includes(`dynvocab.onnx (manifest ${name})`), msg);
      assert(msg.includes(`logits are 8 wide, ${word} than the manifest's vocabSize`), msg);
      assertEquals(cache.length, 0);
    } finally {
      await model.dispose();
    }
  }
  const nan = await loadOnnxModel(new URL("nan.json", bad));
  try {
    const msg = await message(() => nan.step(nan.newCache(2), firstStep(nan)));
    assert(msg.includes("step 0 returned a NaN logit (batch row 0, slot 0"), msg);
  } finally {
    await nan.dispose();
  }
});

const adapter = await webGpuAdapterInfo();
Deno.test({
  name: "WebGPU backend: the same contract checks with the same messages",
  ignore: adapter === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const noPresent = await message(() => loadWebGpuModel(new URL("no-present.json", bad)));
    assert(noPresent.includes("lacks outputs present.0.key, present.0.value"), noPresent);
    const int32 = await message(() => loadWebGpuModel(new URL("int32-ids.json", bad)));
    assert(int32.includes('input "input_ids" is int32'), int32);
    for (const [name, word] of [["narrow", "narrower"], ["wide", "wider"]]) {
      const model = await loadWebGpuModel(new URL(`${name}.json`, bad));
      try {
        const msg = await message(() => model.step(model.newCache(2), firstStep(model)));
        assert(msg.includes(`logits are 8 wide, ${word} than`), msg);
      } finally {
        await model.dispose();
      }
    }
    const nan = await loadWebGpuModel(new URL("nan.json", bad));
    try {
      const msg = await message(() => nan.step(nan.newCache(2), firstStep(nan)));
      assert(msg.includes("step 0 returned a NaN logit"), msg);
    } finally {
      await nan.dispose();
    }
  },
});
