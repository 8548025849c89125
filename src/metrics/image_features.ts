/**
 * Features (and class logits) from any ONNX image model, run with onnxruntime-node: the feature
 * extractor behind the Fréchet and kernel distances and the class-consistency score.
 * @module
 */
import type { OrtNode, OrtNodeTypes } from "../deps/ort.ts";
import { resizeImages } from "../data/images.ts";
import { openReferencedGraph } from "../runtime/ort_node.ts";
import { type LoadLimits, readManifestJson } from "../runtime/files.ts";
import { ManifestError } from "../util/errors.ts";
import { framesOf, type ImageBatch } from "../media/batches.ts";
import type { FeatureSet } from "./features.ts";
import { type FeatureManifest, parseFeatureManifest } from "./feature_manifest.ts";

/**
 * Options of {@link ImageFeatureExtractor.load}; the {@link LoadLimits} (timeout, sizes,
 * `allowOutside`) bound the reads of the manifest and the graph.
 */
export interface FeatureLoadOptions extends LoadLimits {
  /** Intra-op threads (default: the runtime's choice). */
  threads?: number;
  /** Skip the sha256 check when the manifest has one (default false). */
  skipHashCheck?: boolean;
}

/** Options of {@link ImageFeatureExtractor.run}. */
export interface FeatureRunOptions {
  /** Pictures per session run when the graph's batch axis is dynamic (default 64). */
  batchSize?: number;
}

/** Features, and logits (and spatial features) when the model has those outputs. */
export interface FeatureOutput {
  /** [n, featureDim] float32. */
  features: FeatureSet;
  /** [n, classes] float32, or null when the manifest names no logits output. */
  logits: FeatureSet | null;
  /** [n, width] float32 from `outputs.spatial`, or null when the manifest names none. */
  spatial: FeatureSet | null;
}

/** How well predicted classes agree with the intended ones. */
export interface ClassConsistency {
  /** Fraction of pictures whose arg-max class equals the label. */
  accuracy: number;
  /** Mean of the per-class accuracies over the classes present in the labels. */
  balancedAccuracy: number;
  /** Accuracy per class (null where no picture has that label). */
  perClass: (number | null)[];
  /** Predicted class of each picture. */
  predictions: Uint8Array | Uint16Array;
}

/**
 * Runs a user's ONNX image model described by a feature manifest (see `feature_manifest.ts`).
 * @example
 * const cnn = await ImageFeatureExtractor.load("fixtures/classifier/emoji-cnn.json");
 * const { features, logits } = await cnn.run(pictures);
 * const consistency = await cnn.classConsistency(pictures, labels);
 */
export class ImageFeatureExtractor {
  /** The validated manifest. */
  readonly manifest: FeatureManifest;
  /** Where the manifest was read from. */
  readonly source: URL;
  readonly #session: OrtNodeTypes.InferenceSession;
  readonly #ort: OrtNode;

  private constructor(
    manifest: FeatureManifest,
    source: URL,
    session: OrtNodeTypes.InferenceSession,
    ort: OrtNode,
  ) {
    this.manifest = manifest;
    this.source = source;
    this.#session = session;
    this.#ort = ort;
    const { input, outputs } = manifest;
    const missingIn = session.inputNames.includes(input.name) ? [] : [input.name];
    const wanted = [outputs.features, outputs.logits, outputs.spatial].filter((o) => o !== null);
    const missingOut = wanted.filter((n) => !session.outputNames.includes(n));
    if (missingIn.length || missingOut.length) {
      throw new ManifestError(
        `${manifest.onnx}: the graph has inputs [${session.inputNames.join(", ")}] and outputs [${
          session.outputNames.join(", ")
        }], but the manifest names input "${input.name}" and outputs "${wanted.join('", "')}". ` +
          "Fix: set input.name / outputs.features / outputs.logits / outputs.spatial to the graph's names",
      );
    }
  }

  /**
   * Load a model from its manifest (`.json`) or the `.onnx` beside it (then `<name>.json`).
   * Paths, `file:` and `https:` URLs work; the graph must lie in the manifest's folder (or on
   * its origin) unless `options.allowOutside`, and the reads are bounded by the
   * {@link LoadLimits}.
   */
  static async load(
    location: string | URL,
    options: FeatureLoadOptions = {},
  ): Promise<ImageFeatureExtractor> {
    const { json, url, name } = await readManifestJson(location, options);
    const manifest = parseFeatureManifest(json, name);
    const { ort, session } = await openReferencedGraph(url, {
      file: manifest.onnx,
      field: "onnx",
      sha256: options.skipHashCheck ? undefined : manifest.sha256,
      bytes: manifest.bytes,
      fix: "the .onnx and its manifest do not belong together (re-export, or drop sha256)",
    }, options);
    return new ImageFeatureExtractor(manifest, url, session, ort);
  }

  /** Length of a feature vector. */
  get featureDim(): number {
    return this.manifest.featureDim;
  }

  /** Class names of the logits, or null when the model has no logits output. */
  get classNames(): string[] | null {
    return this.manifest.outputs.logits ? this.manifest.classNames : null;
  }

  /**
   * Fill the model input for items [start, start + count) (zero rows pad a fixed batch); a clip
   * model's items are clips of `input.frames` pictures, each laid out like a picture.
   */
  #inputTensor(images: ImageBatch, start: number, count: number, batch: number) {
    const { layout, height, width, mean, std, frames } = this.manifest.input;
    const plane = height * width;
    const x = new Float32Array(batch * frames * plane * 3);
    const scale = [0, 1, 2].map((c) => 1 / (255 * std[c]));
    const shift = [0, 1, 2].map((c) => mean[c] / std[c]);
    for (let i = 0; i < count * frames; i++) {
      const src = (start * frames + i) * plane * 3;
      const dst = i * plane * 3;
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) {
          const v = images.data[src + p * 3 + c] * scale[c] - shift[c];
          if (layout === "NCHW") x[dst + c * plane + p] = v;
          else x[dst + p * 3 + c] = v;
        }
      }
    }
    const item = layout === "NCHW" ? [3, height, width] : [height, width, 3];
    const dims = frames === 1 ? [batch, ...item] : [batch, frames, ...item];
    return new this.#ort.Tensor("float32", x, dims);
  }

  /**
   * Features (and logits) of a batch of pictures (uint8 RGB, any size: resized to the model's),
   * or of clips for a clip model (`frames` of the batch = the manifest's `input.frames`).
   */
  async run(images: ImageBatch, options: FeatureRunOptions = {}): Promise<FeatureOutput> {
    const { n } = images;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`pictures: n must be >= 1, got ${n}`);
    const frames = framesOf(images);
    if (frames !== this.manifest.input.frames) {
      throw new RangeError(
        `pictures: the batch has ${frames} frame(s) per item but ${this.manifest.name} takes ` +
          `${this.manifest.input.frames}. Fix: ${
            this.manifest.input.frames === 1
              ? "pass single pictures (asFrames(batch) views clips as pictures)"
              : `pass clips of ${this.manifest.input.frames} frames`
          }`,
      );
    }
    if (images.data.length !== n * frames * images.height * images.width * 3) {
      throw new RangeError(
        frames === 1
          ? `pictures: data has ${images.data.length} bytes, expected n*height*width*3 = ${
            n * images.height * images.width * 3
          }`
          : `pictures: data has ${images.data.length} bytes, expected n*frames*height*width*3 = ${
            n * frames * images.height * images.width * 3
          }`,
      );
    }
    const { input, outputs, featureDim } = this.manifest;
    const pics = images.height === input.height && images.width === input.width
      ? images
      : await resizeImages(images, input.width, input.height, input.resize);
    const fixed = input.batchSize;
    const batch = fixed ?? options.batchSize ?? 64;
    const classes = outputs.logits ? this.manifest.classNames!.length : 0;
    const features = new Float32Array(n * featureDim);
    const logits = outputs.logits ? new Float32Array(n * classes) : null;
    let spatial: Float32Array | null = null; // sized from the first batch's output
    let spatialDim = 0;
    for (let start = 0; start < n; start += batch) {
      const count = Math.min(batch, n - start);
      const feeds = { [input.name]: this.#inputTensor(pics, start, count, fixed ?? count) };
      const result = await this.#session.run(feeds);
      const copy = (name: string, width: number, out: Float32Array, what: string) => {
        const t = result[name];
        const data = t.data as Float32Array;
        if (
          t.type !== "float32" || t.dims[0] !== (fixed ?? count) ||
          data.length !== t.dims[0] * width
        ) {
          throw new ManifestError(
            `${this.manifest.onnx}: output "${name}" has type ${t.type} and shape [${
              t.dims.join(", ")
            }], expected float32 with ${width} values per picture (${what})`,
          );
        }
        out.set(data.subarray(0, count * width), start * width);
      };
      copy(outputs.features, featureDim, features, "manifest featureDim");
      if (logits) copy(outputs.logits!, classes, logits, "one per class name");
      if (outputs.spatial) {
        if (!spatial) {
          const t = result[outputs.spatial];
          spatialDim = Math.max(
            1,
            Math.round((t.data as Float32Array).length / Math.max(1, t.dims[0])),
          );
          spatial = new Float32Array(n * spatialDim);
        }
        copy(outputs.spatial, spatialDim, spatial, "the same width for every batch");
      }
    }
    return {
      features: { n, d: featureDim, data: features },
      logits: logits ? { n, d: classes, data: logits } : null,
      spatial: spatial ? { n, d: spatialDim, data: spatial } : null,
    };
  }

  /** Feature vectors only (see {@link run}). */
  async features(images: ImageBatch, options: FeatureRunOptions = {}): Promise<FeatureSet> {
    return (await this.run(images, options)).features;
  }

  /**
   * Class consistency: how often the model's arg-max class equals the intended label (e.g. the
   * class a generator was conditioned on). Needs a logits output.
   * @example
   * const { accuracy } = await cnn.classConsistency(decodedSamples, sampleLabels);
   */
  async classConsistency(
    images: ImageBatch,
    labels: ArrayLike<number>,
    options: FeatureRunOptions = {},
  ): Promise<ClassConsistency> {
    if (!this.manifest.outputs.logits) {
      throw new ManifestError(
        `${this.manifest.name}: class consistency needs a logits output; the manifest's ` +
          "outputs.logits is null. Fix: export the classifier's logits and name them there",
      );
    }
    if (labels.length !== images.n) {
      throw new RangeError(`labels has ${labels.length} entries for ${images.n} pictures`);
    }
    const { logits } = await this.run(images, options);
    return consistencyFromLogits(logits!, labels);
  }

  /** Release the ONNX session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * Accuracy, balanced accuracy and per-class accuracy of arg-max predictions from logits
 * ([n, classes]) against labels.
 * @example
 * consistencyFromLogits({ n: 2, d: 2, data: new Float32Array([1, 0, 0, 1]) }, [0, 0]).accuracy; // 0.5
 */
export function consistencyFromLogits(
  logits: FeatureSet,
  labels: ArrayLike<number>,
): ClassConsistency {
  const { n, d: classes, data } = logits;
  if (labels.length !== n) throw new RangeError(`labels has ${labels.length} entries for ${n}`);
  const predictions = classes <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  const hits = new Float64Array(classes);
  const totals = new Float64Array(classes);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`label ${label} at ${i} is not a class index in [0, ${classes})`);
    }
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (data[i * classes + c] > data[i * classes + best]) best = c;
    }
    predictions[i] = best;
    totals[label]++;
    if (best === label) {
      hits[label]++;
      correct++;
    }
  }
  const perClass = Array.from(totals, (t, c) => (t > 0 ? hits[c] / t : null));
  const present = perClass.filter((a): a is number => a !== null);
  return {
    accuracy: correct / n,
    balancedAccuracy: present.reduce((s, a) => s + a, 0) / present.length,
    perClass,
    predictions,
  };
}
