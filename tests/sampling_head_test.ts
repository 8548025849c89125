/**
 * The in-graph sampling head (python/sampling_head.py, micro-par4-head) against the JavaScript
 * draw (`TokenDrawer.draw`, float64), the reference.
 *
 * - Per draw, CPU: tests/sampling_head_audit.ts's `DrawAudit` wraps the model so every step of
 *   a `drawOnDevice` run also returns its logits; each in-graph token is compared with the
 *   JavaScript draw from the same logits and the same float64 uniform. A disagreement must lie
 *   within `BOUNDARY_TOL` (1e-5 of the mass) of a boundary (see `drawMargin` there). Per setting
 *   the counts are printed (src/sampler/README.md quotes them). Where a run had no disagreement, `sample()` with `drawOnDevice: false` gives the
 *   same tokens end to end (same context at every step, so the same draws).
 * - Boundary stress: every uniform is moved onto a float64 cumulative boundary of its slot (the
 *   step is run, rolled back with `truncate`, and rerun), so about half the draws flip; all of
 *   them must be classified as boundary cases.
 * - Errors: the contract check for a head manifest on a graph without the head and the other way
 *   round, head input types, a draw on a model without the head, and `drawOnDevice` misuse.
 * - WebGPU (when an adapter runs it; skipped like tests/webgpu_test.ts otherwise): the same
 *   per-draw agreement, with the logits left on the GPU in the unwrapped run.
 */
import { type ARModel, loadModel } from "../src/model/mod.ts";
import { checkContract, type GraphSignature } from "../src/model/feeds.ts";
import { parseModelManifest } from "../src/model/manifest.ts";
import { webGpuAdapterInfo } from "../src/runtime/mod.ts";
import { sample, type SampleOptions } from "../src/sampler/mod.ts";
import { scheduleFromJSON } from "../src/schedule/mod.ts";
import { ManifestError } from "../src/util/mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { auditSetting, SETTINGS } from "./sampling_head_audit.ts";

const models = new URL("../fixtures/models/", import.meta.url);
const HEAD = new URL("micro-par4-head.json", models);
const PLAIN = new URL("micro-par4-fused.json", models);

Deno.test("sampling head (CPU): in-graph draws agree with the JavaScript draw but at boundaries", async () => {
  const model = await loadModel(HEAD, { backend: "cpu" });
  try {
    assert(model.manifest.samplingHead, "micro-par4-head's manifest has samplingHead");
    const seeds = Array.from({ length: 12 }, (_, i) => i);
    for (const [name, setting] of Object.entries(SETTINGS)) {
      const r = await auditSetting(model, setting, seeds, [0, 1, 2, 3]);
      console.log(
        `sampling head cpu, ${name}: ${r.disagreements} of ${r.draws} draws differ ` +
          `(worst margin ${r.worstMargin.toExponential(1)}), ${r.identicalRuns} of ${r.runs} ` +
          "runs identical end to end",
      );
    }
    // Default: the head runs (no logits downloaded after the first step) and matches drawOnDevice.
    const schedule = scheduleFromJSON(model.manifest.schedule);
    const base = { schedule, classes: [1, 3], seed: 4, cfgScale: 2, onWarning: () => {} };
    let drawingSteps = 0;
    const spy: ARModel = {
      manifest: model.manifest,
      source: model.source,
      backend: model.backend,
      backendName: model.backendName,
      newCache: (b) => model.newCache(b),
      step: (cache, inputs) => {
        if (inputs.draw) drawingSteps++;
        return model.step(cache, inputs);
      },
      truncate: (cache, n) => model.truncate(cache, n),
      dispose: () => Promise.resolve(),
    };
    const byDefault = await sample(spy, base);
    assertEquals(drawingSteps, schedule.steps.length, "every step drew in the graph");
    assertEquals(byDefault.tokens, (await sample(model, { ...base, drawOnDevice: true })).tokens);
    // recordEntropy draws in JavaScript (it needs the logits): entropies are recorded.
    const withEntropy = await sample(model, { ...base, recordEntropy: true });
    assert(withEntropy.trace.every((t) => t.entropyBits !== undefined), "entropy recorded");
  } finally {
    await model.dispose();
  }
});

Deno.test("sampling head (CPU): uniforms on cumulative boundaries flip only boundary draws", async () => {
  const model = await loadModel(HEAD, { backend: "cpu" });
  try {
    for (const name of ["guidance 2", "all: guidance 3, cfgInterval 5, T 0.7, topK 20, topP 0.8"]) {
      const r = await auditSetting(model, SETTINGS[name], [0, 1], [0, 1, 2, 3], true);
      console.log(
        `sampling head cpu, boundary stress, ${name}: ${r.disagreements} of ${r.draws} draws ` +
          `differ (worst margin ${r.worstMargin.toExponential(1)})`,
      );
      assert(r.disagreements > 0, "uniforms on boundaries must flip some draws");
    }
  } finally {
    await model.dispose();
  }
});

/** A graph signature with the step contract's names for the micro model (2 layers). */
function signature(head: boolean, topKType = "int64"): GraphSignature {
  const cache = [0, 1].flatMap((i) => [`past.${i}.key`, `past.${i}.value`]);
  const inputNames = [
    "input_ids",
    "position_ids",
    "attention_mask",
    ...cache,
    ...(head ? ["draw_uniforms", "draw_settings", "draw_top_k"] : []),
  ];
  // python/fused.py's mha graph returns both the grown cache and this step's keys/values
  const present = [0, 1].flatMap((i) =>
    ["present", "new"].flatMap((c) => [`${c}.${i}.key`, `${c}.${i}.value`])
  );
  return {
    inputNames,
    outputNames: ["logits", ...present, ...(head ? ["tokens"] : [])],
    inputMetadata: head
      ? [{ name: "draw_top_k", isTensor: true, type: topKType, shape: [1] }]
      : undefined,
  };
}

Deno.test("sampling head: the contract check matches the graph to the manifest's samplingHead", async () => {
  const json = JSON.parse(await Deno.readTextFile(HEAD));
  const headManifest = parseModelManifest(json, "micro-par4-head.json");
  const { samplingHead: _, ...rest } = json;
  const plainManifest = parseModelManifest(rest, "micro-par4-head.json");
  assertEquals(plainManifest.samplingHead, false, "absent means false");
  checkContract(signature(true), headManifest);
  checkContract(signature(false), plainManifest);
  const lacks = (() => {
    try {
      checkContract(signature(false), headManifest);
    } catch (err) {
      return err;
    }
  })();
  assert(lacks instanceof ManifestError, "a head manifest on a graph without the head");
  assert(lacks.message.includes("samplingHead: true") && lacks.message.includes("--sampling-head"));
  assert(lacks.message.includes("draw_uniforms, draw_settings, draw_top_k, tokens"), lacks.message);
  const undeclared = (() => {
    try {
      checkContract(signature(true), plainManifest);
    } catch (err) {
      return err;
    }
  })();
  assert(undeclared instanceof ManifestError, "a head graph under a manifest without it");
  assert(undeclared.message.includes("does not declare"), undeclared.message);
  const badType = (() => {
    try {
      checkContract(signature(true, "float32"), headManifest);
    } catch (err) {
      return err;
    }
  })();
  assert(
    badType instanceof ManifestError && badType.message.includes("draw_top_k"),
    String(badType),
  );
  // The same on load: the plain fused graph under a copy of its manifest that claims the head.
  const dir = await Deno.makeTempDir();
  try {
    const plain = JSON.parse(await Deno.readTextFile(PLAIN));
    await Deno.copyFile(new URL(plain.onnx, models), `${dir}/${plain.onnx}`);
    await Deno.writeTextFile(`${dir}/m.json`, JSON.stringify({ ...plain, samplingHead: true }));
    let message = "";
    try {
      await loadModel(`${dir}/m.json`, { backend: "cpu" });
    } catch (err) {
      assert(err instanceof ManifestError);
      message = err.message;
    }
    assert(message.includes("lacks the sampling head"), message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sampling head: draws asked of a model without it, drawOnDevice misuse, non-finite slots", async () => {
  const model = await loadModel(PLAIN, { backend: "cpu" });
  const head = await loadModel(HEAD, { backend: "cpu" });
  try {
    const schedule = scheduleFromJSON(model.manifest.schedule);
    const base = { schedule, classes: [0], seed: 1, onWarning: () => {} };
    // A model without the head draws in JavaScript by default.
    assertEquals((await sample(model, base)).tokens.length, 64);
    const message = async (m: ARModel, o: Partial<SampleOptions>) => {
      try {
        await sample(m, { ...base, ...o });
      } catch (err) {
        return (err as Error).message;
      }
      return "";
    };
    const none = await message(model, { drawOnDevice: true });
    assert(none.startsWith("drawOnDevice:") && none.includes("--sampling-head"), none);
    const entropy = await message(head, { drawOnDevice: true, recordEntropy: true });
    assert(entropy.startsWith("drawOnDevice:") && entropy.includes("recordEntropy"), entropy);
    // A step with a draw part on the plain model names the field and the fix.
    const cache = model.newCache(1);
    let stepError = "";
    try {
      await model.step(cache, {
        batch: 1,
        length: 1,
        inputIds: BigInt64Array.of(128n),
        positionIds: BigInt64Array.of(-1n),
        attentionMask: Uint8Array.of(1),
        draw: {
          uniforms: Float32Array.of(0.5),
          cfgScale: 1,
          guided: false,
          temperature: 1,
          topK: 0,
          topP: 1,
        },
      });
    } catch (err) {
      assert(err instanceof ManifestError);
      stepError = err.message;
    }
    assert(stepError.startsWith("draw:") && stepError.includes("no sampling head"), stepError);
    // Bad draw settings on the head model name the field.
    let settingError = "";
    try {
      await head.step(head.newCache(1), {
        batch: 1,
        length: 1,
        inputIds: BigInt64Array.of(128n),
        positionIds: BigInt64Array.of(-1n),
        attentionMask: Uint8Array.of(1),
        draw: {
          uniforms: Float32Array.of(0.5),
          cfgScale: 1,
          guided: true, // needs two rows
          temperature: 1,
          topK: 0,
          topP: 1,
        },
      });
    } catch (err) {
      assert(err instanceof ManifestError);
      settingError = err.message;
    }
    assert(settingError.startsWith("draw.uniforms:"), settingError);
    // Guidance that overflows float32 (inf - inf = NaN) makes the head mark the slot -1, which
    // sample() reports as non-finite logits (its own settings check keeps the scale in range).
    const nan = await head.step(head.newCache(2), {
      batch: 2,
      length: 1,
      inputIds: BigInt64Array.of(128n, 132n),
      positionIds: BigInt64Array.of(-1n, -1n),
      attentionMask: Uint8Array.of(1, 1),
      draw: {
        uniforms: Float32Array.of(0.5),
        cfgScale: 3e38,
        guided: true,
        temperature: 1,
        topK: 0,
        topP: 1,
      },
    });
    assertEquals([...nan.tokens!], [-1]);
  } finally {
    await model.dispose();
    await head.dispose();
  }
});

const adapter = await webGpuAdapterInfo();
if (!adapter) {
  if (Deno.env.get("PARLAB_ALLOW_NO_GPU") === "1") {
    console.warn("sampling_head_test: WebGPU part skipped: no adapter and PARLAB_ALLOW_NO_GPU=1");
  } else {
    Deno.test("WebGPU adapter is present (the sampling head's WebGPU test needs it)", () => {
      throw new Error(
        "no WebGPU adapter (navigator.gpu.requestAdapter gave none). Fix: apt-get install " +
          "mesa-vulkan-drivers libvulkan1 (software Vulkan), or set PARLAB_ALLOW_NO_GPU=1 to skip",
      );
    });
  }
} else {
  Deno.test({
    name: "sampling head (WebGPU): in-graph draws agree with the JavaScript draw and the CPU",
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const gpu = await loadModel(HEAD, { backend: "webgpu" });
      const cpu = await loadModel(HEAD, { backend: "cpu" });
      try {
        for (
          const name of [
            "guidance 2, cfgInterval 3",
            "all: guidance 3, cfgInterval 5, T 0.7, topK 20, topP 0.8",
          ]
        ) {
          const r = await auditSetting(gpu, SETTINGS[name], [0], [0, 1, 2, 3]);
          console.log(
            `sampling head webgpu, ${name}: ${r.disagreements} of ${r.draws} draws differ ` +
              `(worst margin ${r.worstMargin.toExponential(1)})`,
          );
        }
        // Unwrapped (logits stay on the GPU): the same tokens as the CPU's head.
        const schedule = scheduleFromJSON(gpu.manifest.schedule);
        const o = {
          schedule,
          classes: [0, 2],
          seed: 3,
          cfgScale: 2,
          topK: 20,
          onWarning: () => {},
        };
        assertEquals((await sample(gpu, o)).tokens, (await sample(cpu, o)).tokens);
      } finally {
        await gpu.dispose();
        await cpu.dispose();
      }
    },
  });
}
