import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  decodeNpy,
  encodeNpy,
  gunzip,
  gzip,
  loadNpyFile,
  NPY_DTYPES,
  type NpyArray,
  type NpyDtype,
  readNpy,
  saveNpyFile,
  writeNpy,
} from "../src/io/mod.ts";

function sample(dtype: NpyDtype, shape: number[]): NpyArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => i * 7 - 3);
  switch (dtype) {
    case "bool":
      return { dtype, shape, data: Uint8Array.from(values, (v) => v & 1) };
    case "int8":
      return { dtype, shape, data: Int8Array.from(values) };
    case "uint8":
      return { dtype, shape, data: Uint8Array.from(values, (v) => v & 255) };
    case "int16":
      return { dtype, shape, data: Int16Array.from(values, (v) => v * 100) };
    case "uint16":
      return { dtype, shape, data: Uint16Array.from(values, (v) => (v * 1000) & 0xffff) };
    case "int32":
      return { dtype, shape, data: Int32Array.from(values, (v) => v * 100000) };
    case "uint32":
      return { dtype, shape, data: Uint32Array.from(values, (v) => (v * 100000) >>> 0) };
    case "int64":
      return { dtype, shape, data: BigInt64Array.from(values, (v) => BigInt(v) * 10n ** 12n) };
    case "uint64":
      return { dtype, shape, data: BigUint64Array.from(values, (v) => BigInt(Math.abs(v)) << 40n) };
    case "float32":
      return { dtype, shape, data: Float32Array.from(values, (v) => v / 3) };
    case "float64":
      return { dtype, shape, data: Float64Array.from(values, (v) => v / 3) };
  }
}

Deno.test("npy round trip for every dtype and several shapes, plain and gzipped", () => {
  for (const dtype of NPY_DTYPES) {
    for (const shape of [[], [0], [5], [2, 3], [2, 3, 4]]) {
      const a = sample(dtype, shape);
      for (const gz of [false, true]) {
        const bytes = encodeNpy(a, gz);
        const b = decodeNpy(bytes);
        assertEquals(b.dtype, dtype);
        assertEquals(b.shape, shape);
        assertEquals([...b.data], [...a.data], `${dtype} ${shape}`);
      }
    }
  }
});

Deno.test("npy header is v1.0, 64-byte aligned, NumPy style", () => {
  const bytes = writeNpy({ dtype: "uint16", shape: [3, 24, 24], data: new Uint16Array(3 * 576) });
  assertEquals([...bytes.subarray(0, 8)], [0x93, 78, 85, 77, 80, 89, 1, 0]);
  const headerLen = bytes[8] | (bytes[9] << 8);
  assertEquals((10 + headerLen) % 64, 0);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
  assert(header.startsWith("{'descr': '<u2', 'fortran_order': False, 'shape': (3, 24, 24), }"));
  assert(header.endsWith("\n"));
  const one = new TextDecoder().decode(
    writeNpy({ dtype: "float32", shape: [7], data: new Float32Array(7) }).subarray(10, 80),
  );
  assert(one.includes("'shape': (7,)"), one);
});

Deno.test("gzip is deterministic with a zero mtime", () => {
  const data = new TextEncoder().encode("deterministic ".repeat(1000));
  const a = gzip(data);
  const b = gzip(data);
  assertEquals(a, b);
  assertEquals([...a.subarray(4, 8)], [0, 0, 0, 0]);
  assertEquals(gunzip(a), data);
});

Deno.test("npy reader rejects bad input with a message naming the problem", () => {
  assertThrows(() => readNpy(new Uint8Array([1, 2, 3])), Error, "magic");
  const good = writeNpy({ dtype: "float32", shape: [4], data: new Float32Array(4) });
  assertThrows(() => readNpy(good.subarray(0, good.length - 3)), Error, "truncated .npy data");
  const patch = (from: string, to: string) => {
    const text = new TextDecoder().decode(good.subarray(10, good.length - 16));
    assertEquals(from.length, to.length);
    const out = good.slice();
    out.set(new TextEncoder().encode(text.replace(from, to)), 10);
    return out;
  };
  assertThrows(() => readNpy(patch("False", "True ")), Error, "fortran_order");
  assertThrows(() => readNpy(patch("<f4", ">f4")), Error, "big-endian");
  assertThrows(() => readNpy(patch("<f4", "<c8")), Error, "not supported");
  assertThrows(() => gunzip(good), Error, "not gzip");
  const gz = gzip(good);
  assertThrows(() => gunzip(gz.subarray(0, 20)), Error, "corrupt gzip");
  assertThrows(
    () => writeNpy({ dtype: "uint16", shape: [3], data: new Uint16Array(4) }),
    Error,
    "needs 3",
  );
  assertThrows(
    () =>
      writeNpy({ dtype: "uint16", shape: [3], data: new Uint8Array(3) as unknown as Uint16Array }),
    Error,
    "Uint16Array",
  );
});

Deno.test("npy files: .gz chosen by extension; NumPy reads what we write and vice versa", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = sample("int64", [2, 5]);
    await saveNpyFile(`${dir}/a.npy.gz`, a);
    await saveNpyFile(`${dir}/a.npy`, a);
    assertEquals((await Deno.readFile(`${dir}/a.npy.gz`))[0], 0x1f);
    assertEquals([...(await loadNpyFile(`${dir}/a.npy.gz`)).data], [...a.data]);
    assertEquals([...(await loadNpyFile(new URL(`file://${dir}/a.npy`))).data], [...a.data]);
    await Deno.writeFile(`${dir}/bad.npy.gz`, new Uint8Array([1, 2, 3]));
    const err = await loadNpyFile(`${dir}/bad.npy.gz`).catch((e) => e as Error);
    assert(err instanceof Error && err.message.includes("bad.npy.gz"), String(err));

    const python = "/usr/bin/python3";
    const hasNumpy = await new Deno.Command(python, { args: ["-c", "import numpy"] }).output()
      .then((o) => o.success).catch(() => false);
    if (!hasNumpy) return; // NumPy interop checked where Python is installed
    const script = `
import numpy as np, gzip, sys
d = sys.argv[1]
a = np.load(gzip.open(d + "/a.npy.gz"))
assert a.dtype == np.int64 and a.shape == (2, 5), (a.dtype, a.shape)
print(",".join(str(v) for v in a.ravel()))
np.save(d + "/b.npy", np.arange(12, dtype=np.float32).reshape(3, 4) / 7)
np.save(d + "/c.npy", np.array([True, False, True]))
`;
    const out = await new Deno.Command(python, { args: ["-c", script, dir] }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    assertEquals(new TextDecoder().decode(out.stdout).trim(), [...a.data].join(","));
    const b = await loadNpyFile(`${dir}/b.npy`);
    assertEquals(b.dtype, "float32");
    assertEquals(b.shape, [3, 4]);
    assertEquals(b.data[5], Math.fround(5 / 7));
    const c = await loadNpyFile(`${dir}/c.npy`);
    assertEquals(c.dtype, "bool");
    assertEquals([...c.data], [1, 0, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
