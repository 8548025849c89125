"""Micro test models: one seeded random PAR-4x model (no training) exported in several graph variants.

    /usr/bin/python3 -m python.micro [--variants micro-par4-fused,...] [--models fixtures/models]

The model is tiny on purpose (vocabulary 128, 4 classes, width 32, 2 layers, 2 heads of 16,
8x8 grid, fp16 storage: about 70 KB a file) so every graph variant of python/fused.py can be
committed with golden files and tested in Deno against PyTorch: the tiny models (grouped kv
heads) keep the traced export and cannot take the fused one. Its output head is drawn with a
larger spread than LlamaGen's zero init, so the distributions are peaked like a trained model's
rather than uniform. Writes ``<models>/<variant>.{onnx,json}`` and ``fixtures/golden/<variant>/``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

from .export import export_with_manifest, round_to_fp16
from .golden import write_golden
from .model import GPT, GPTConfig
from .schedule import make_grid, schedule_by_name

#: Variant name -> export_with_manifest keyword arguments.
VARIANTS = {
    "micro-par4-fused": {"graph": "fused"},
    # fp16 arithmetic and KV cache: the GPU backends' half-precision graph (mha attention, the
    # default for float16); the CPU runs it too, casting around its fp16-less kernels
    # (tests/fp16_compute_test.ts)
    "micro-par4-f16": {"graph": "fused", "compute": "float16"},
    # the fused graph plus python/sampling_head.py's in-graph draw (tests/sampling_head_test.ts);
    # mha attention returns both the grown cache (WebGPU) and new.* (the CPU's arena cache), so
    # one fixture covers both backends
    "micro-par4-head": {"graph": "fused", "attention": "mha", "sampling_head": True},
}


def micro_model(seed: int = 0) -> GPT:
    """The seeded random micro model (weights already rounded to fp16 precision)."""
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=128, num_classes=4, dim=32, n_layer=2, n_head=2, transition_tokens=3,
                    height=8, width=8, multiple_of=32)
    model = GPT(cfg).eval()
    with torch.no_grad():
        torch.nn.init.normal_(model.output.weight, std=0.5)
    return round_to_fp16(model)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.micro", description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--models", default="fixtures/models")
    p.add_argument("--golden", default="fixtures/golden")
    args = p.parse_args(argv)
    model = micro_model()
    schedule = schedule_by_name(make_grid(8, 8), "par4")
    for name in args.variants.split(","):
        if name not in VARIANTS:
            print(f"micro: unknown variant {name!r}; known: {', '.join(VARIANTS)}", file=sys.stderr)
            return 1
        manifest = export_with_manifest(
            model, args.models, name, schedule, dtype="float16",
            sampling={"cfgScale": 2.0, "cfgInterval": None, "temperature": 1.0, "topK": 0, "topP": 1.0},
            provenance={"note": "seeded random weights (python -m python.micro): graph tests only"},
            **VARIANTS[name])
        write_golden(model, manifest, os.path.join(args.golden, name), classes=[0, 1])
        size = os.path.getsize(os.path.join(args.models, manifest["onnx"]))
        print(json.dumps({"name": name, "bytes": size}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
