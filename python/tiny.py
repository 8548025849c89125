"""Train, export and record golden files for the six tiny test models and the tiny video model.

    /usr/bin/python3 -m python.tiny [--configs raster,par4,...,video-par4] [--steps 100] [--synthetic N]

Each config trains a 3-layer, width-48 model (4 heads, 2 KV heads; ~175k parameters, fp16
storage, < 0.5 MB) briefly on CPU, exports ``fixtures/models/tiny-<config>.{onnx,json}`` and
writes ``fixtures/golden/tiny-<config>/`` (python/golden.py). Runs live in ``out/tiny/<config>``
and resume when rerun.

``video-par4`` is the video parity model: PAR-4x on synthetic clips of 3 frames of 4x4 tokens
(vocabulary 64, 4 classes; 3D RoPE), the same geometry otherwise, decoded with a palette
codebook of 6x6-pixel patches (``data.synthetic_palette``: 24x24-pixel frames, like the clips'), written
beside it as ``tiny-video-par4.codebook.npy.gz``. Small on purpose: its file and
golden folder stay far under 300 KB (a 1024-token vocabulary alone would put 0.4 MB of weights
and 0.26 MB of golden logits in the repository), and it does not depend on fixtures/video.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import time

import numpy as np
import torch

from .data import synthetic_palette
from .manifest import sha256_file, write_json_atomic

from .golden import write_golden
from .schedule import CONFIG_NAMES

# Video parity models: config name -> (schedule, data flags). Synthetic clips, so the fixture is
# small and reproducible without the clip dataset.
VIDEO_CONFIGS = {
    "video-par4": ("par4", ["--synthetic", "512", "--synthetic-grid", "3x4x4", "--synthetic-vocab", "64"]),
}
from .train import build_parser as train_parser
from .train import train


def write_palette(manifest_path: str, vocab: int, classes: int) -> None:
    """Write the palette codebook beside a synthetic model and name it as the manifest's tokenizer."""
    buf = io.BytesIO()
    np.save(buf, synthetic_palette(vocab, classes))
    folder = os.path.dirname(os.path.abspath(manifest_path))
    name = os.path.basename(manifest_path)[: -len(".json")] + ".codebook.npy.gz"
    tmp = os.path.join(folder, f".tmp-{name}")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:  # mtime 0: reproducible bytes
        f.write(buf.getvalue())
    os.replace(tmp, os.path.join(folder, name))
    manifest = json.load(open(manifest_path))
    path = os.path.join(folder, name)
    manifest["tokenizer"] = {"kind": "patch-kmeans", "codebook": name, "sha256": sha256_file(path),
                             "bytes": os.path.getsize(path)}
    write_json_atomic(manifest_path, manifest)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.tiny", description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default=",".join(CONFIG_NAMES + list(VIDEO_CONFIGS)))
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--synthetic", type=int, default=0)
    p.add_argument("--data", default="fixtures/emoji")
    p.add_argument("--runs", default="out/tiny")
    p.add_argument("--models", default="fixtures/models")
    p.add_argument("--golden", default="fixtures/golden")
    p.add_argument("--threads", type=int, default=1, help="1 is fastest on a shared 2-core machine")
    args = p.parse_args(argv)
    summary = {}
    for config in args.configs.split(","):
        t0 = time.time()
        image_data = ["--data", args.data, "--synthetic", str(args.synthetic)]
        schedule, data_flags = VIDEO_CONFIGS.get(config, (config, image_data))
        targs = train_parser().parse_args([
            "--config", schedule, "--out", os.path.join(args.runs, config), *data_flags,
            "--dim", "48", "--layers", "3", "--heads", "4", "--kv-heads", "2",
            "--multiple-of", "32", "--steps", str(args.steps), "--batch", str(args.batch), "--lr", "3e-3",
            "--warmup", "10", "--eval-every", str(args.steps), "--eval-limit", "64", "--threads", str(args.threads),
            "--export", args.models, "--name", f"tiny-{config}", "--dtype", "float16", "--cfg-scale", "2.0",
        ])
        try:
            result = train(targs)
        except (FileNotFoundError, ValueError) as e:
            print(f"tiny: {e}", file=sys.stderr)
            return 1
        name = f"tiny-{config}"
        if config in VIDEO_CONFIGS:
            data = result["data"]
            write_palette(os.path.join(args.models, f"{name}.json"), data.vocab_size, len(data.class_names))
        manifest = json.load(open(os.path.join(args.models, f"{name}.json")))
        model = result["model"].eval()  # already rounded to fp16 precision by the export
        index = write_golden(model, manifest, os.path.join(args.golden, name), classes=[0, 1])
        size = os.path.getsize(os.path.join(args.models, f"{name}.onnx"))
        summary[config] = {"onnxBytes": size, "valNll": result["log"]["val"][-1]["nll"],
                           "seconds": round(time.time() - t0, 1), "goldenSteps": len(index["steps"])}
        print(f"[tiny] {name}: {size} bytes, val NLL {summary[config]['valNll']:.3f}", flush=True)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
