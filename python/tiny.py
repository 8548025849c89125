"""Train, export and record golden files for the six tiny test models.

    /usr/bin/python3 -m python.tiny [--configs raster,par4,...] [--steps 100] [--synthetic N]

Each config trains a 3-layer, width-48 model (4 heads, 2 KV heads; ~175k parameters, fp16
storage, < 0.5 MB) briefly on CPU, exports ``fixtures/models/tiny-<config>.{onnx,json}`` and
writes ``fixtures/golden/tiny-<config>/`` (python/golden.py). Runs live in ``out/tiny/<config>``
and resume when rerun.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from .golden import write_golden
from .schedule import CONFIG_NAMES
from .train import build_parser as train_parser
from .train import train


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.tiny", description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default=",".join(CONFIG_NAMES))
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
        targs = train_parser().parse_args([
            "--config", config, "--out", os.path.join(args.runs, config), "--data", args.data,
            "--synthetic", str(args.synthetic), "--dim", "48", "--layers", "3", "--heads", "4", "--kv-heads", "2",
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
