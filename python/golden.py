"""Golden files: inputs and PyTorch outputs of the first steps of a CFG decode, for ONNX parity.

For a model (``fixtures/models/<name>.onnx`` + ``.json``) and its PyTorch weights, writes under
``fixtures/golden/<name>/``:
  index.json      format "parlab-golden/1": model, classes, condRows, batch, sampling,
                  tolerance (max |logit difference|: 1e-4, or FP16_TOLERANCE for an fp16-compute
                  graph), and per step: step, pastLength, presentLength, cells, and the files
                  inputIds, positionIds, attentionMask, logits (.npy, NumPy format 1.0)
  uniforms.npy    float64 [condRows, cells]: the uniforms of the reference sampler
  sample.npy      int64 [condRows, cells]: the reference sampler's tokens for the whole schedule
  margins.npy     float64 [condRows, cells]: each draw's distance to a CDF edge (fraction of the
                  mass); a replay with logits that differ in the last digits can only disagree
                  at a draw with a tiny margin, and everything later in that image follows it
Steps 0..(n + 2) are saved in order (prefill, single-token steps, the first parallel step with
transition slots, later group steps), so a replay from an empty KV cache reaches every kind.
Rows: condRows conditional rows, then as many unconditional (null class) rows.
"""
from __future__ import annotations

import os
from typing import Dict, List

import numpy as np
import torch

from .manifest import write_json_atomic
from .model import GPT
from .sampler import Sampling, sample, torch_step_fn
from .schedule import cell_count

#: Max |logit difference| a replay of an fp16-compute graph (manifest ``compute: "float16"``) may
#: show against PyTorch's fp32 logits: twice the largest measured (see write_golden).
FP16_TOLERANCE = 5e-2


def golden_steps(schedule: Dict) -> int:
    """How many steps to keep: through the second group step after the first parallel one."""
    sizes = [len(s["cells"]) for s in schedule["steps"]]
    first_parallel = next((i for i, n in enumerate(sizes) if n > 1), None)
    if first_parallel is None:  # raster: prefill + a few single steps
        return min(len(sizes), 6)
    return min(len(sizes), first_parallel + 3)


def write_golden(model: GPT, manifest: Dict, out_dir: str, classes: List[int], seed: int = 0) -> Dict:
    model = model.eval()
    schedule = manifest["schedule"]
    sampling = Sampling.from_manifest(manifest["sampling"])
    cfg = model.config
    rng = np.random.default_rng(seed)
    uniforms = rng.random((len(classes), cell_count(schedule["grid"])))
    os.makedirs(out_dir, exist_ok=True)
    keep = golden_steps(schedule)
    steps = []

    def record(s: int, arrays: Dict[str, np.ndarray]) -> None:
        if s >= keep:
            return
        entry = {"step": s, "pastLength": int(arrays["past"]),
                 "presentLength": int(arrays["past"] + arrays["input_ids"].shape[1]),
                 "cells": arrays["cells"].tolist()}
        for key, field in (("input_ids", "inputIds"), ("position_ids", "positionIds"),
                           ("attention_mask", "attentionMask"), ("logits", "logits")):
            name = f"step{s:03d}.{key}.npy"
            np.save(os.path.join(out_dir, name), np.ascontiguousarray(arrays[key]))
            entry[field] = name
        steps.append(entry)

    torch.manual_seed(seed)
    margins = np.zeros((len(classes), cell_count(schedule["grid"])))
    tokens = sample(torch_step_fn(model), schedule, classes, uniforms, cfg.vocab_size, cfg.num_classes,
                    sampling, record=record, margins=margins)
    np.save(os.path.join(out_dir, "margins.npy"), margins)
    np.save(os.path.join(out_dir, "uniforms.npy"), uniforms)
    np.save(os.path.join(out_dir, "sample.npy"), tokens.astype(np.int64))
    index = {
        "format": "parlab-golden/1",
        "model": manifest["name"],
        "manifest": f"../../models/{manifest['name']}.json",
        "classes": list(classes),
        "condRows": len(classes),
        "batch": len(classes) * (2 if sampling.cfg_scale != 1.0 else 1),
        "sampling": manifest["sampling"],
        # fp32 graphs match PyTorch to ~3e-6; an fp16-compute graph rounds every activation and
        # cache entry to 11 bits, measured up to 2.5e-2 on WebGPU (llvmpipe) and 5e-3 on the CPU
        # at |logits| <= 12 (the micro model), so its replay gets a half-precision tolerance
        "tolerance": FP16_TOLERANCE if manifest.get("compute") == "float16" else 1e-4,
        "torch": torch.__version__,
        "uniforms": "uniforms.npy",
        "sample": "sample.npy",
        "margins": "margins.npy",
        "steps": steps,
    }
    write_json_atomic(os.path.join(out_dir, "index.json"), index)
    return index
