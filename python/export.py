"""Export a GPT to ONNX under parlab's step contract, plus its manifest.

Graph I/O (one graph = one decoding step with a KV cache):
  inputs:  input_ids int64 [B, T]; position_ids int64 [B, T] (-1 = no position);
           attention_mask bool [B, 1, T, P+T]; past.<i>.key / past.<i>.value float32 [B, Hkv, P, D]
  outputs: logits float32 [B, T, V]; present.<i>.key / present.<i>.value float32 [B, Hkv, P+T, D]
B, T and P are dynamic (P may be 0: pass [B, Hkv, 0, D] tensors at the first step).

``dtype="float16"`` stores the weights as fp16 initializers and casts them to fp32 inside the
graph, so every input and output stays float32 and the file is half the size; onnxruntime folds
the casts at session creation (memory holds fp32 weights), and the numbers equal a float32 model
whose weights are rounded to fp16. Opset 17, torch.onnx.export (torch 1.13 and 2.x).
"""
from __future__ import annotations

import argparse
import copy
import os
import time
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from .manifest import build_manifest, write_json_atomic
from .model import GPT


class StepGraph(nn.Module):
    """Flat-argument wrapper that torch.onnx.export can trace."""

    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, attention_mask, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, position_ids, attention_mask, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def io_names(n_layer: int):
    past = [f"past.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    return ["input_ids", "position_ids", "attention_mask"] + past, ["logits"] + present


def round_to_fp16(model: GPT) -> GPT:
    """Round every parameter to fp16 precision in place (keeps fp32 storage); returns the model."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def export_onnx(model: GPT, path: str, dtype: str = "float32", opset: int = 17) -> str:
    """Write ``model`` as a step graph to ``path``. Returns the path."""
    if dtype not in ("float32", "float16"):
        raise ValueError(f'dtype must be "float32" or "float16", got {dtype!r}')
    cfg = model.config
    m = copy.deepcopy(model).eval().float()
    if dtype == "float16":
        m = m.half()
        m.rope = m.rope.float()  # the RoPE table is computed in fp32, as theirs
    b, t, p = 2, 3, 2
    ids = torch.zeros(b, t, dtype=torch.long)
    pos = torch.tensor([[0, 1, -1]] * b, dtype=torch.long)
    mask = torch.ones(b, 1, t, p + t, dtype=torch.bool)
    past = []
    for _ in range(cfg.n_layer):
        past += [torch.zeros(b, cfg.kv_heads, p, cfg.head_dim), torch.zeros(b, cfg.kv_heads, p, cfg.head_dim)]
    inputs, outputs = io_names(cfg.n_layer)
    axes: Dict[str, Dict[int, str]] = {
        "input_ids": {0: "batch", 1: "step"},
        "position_ids": {0: "batch", 1: "step"},
        "attention_mask": {0: "batch", 2: "step", 3: "total"},
        "logits": {0: "batch", 1: "step"},
    }
    for name in inputs[3:]:
        axes[name] = {0: "batch", 2: "past"}
    for name in outputs[1:]:
        axes[name] = {0: "batch", 2: "total"}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(
            StepGraph(m),
            (ids, pos, mask, *past),
            tmp,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=opset,
            # folding would turn the fp16 initializers' casts into fp32 initializers again
            do_constant_folding=dtype == "float32",
        )
    compact_names(tmp)
    os.replace(tmp, path)
    return path


def compact_names(path: str) -> None:
    """Drop node names and shorten intermediate tensor names (graph I/O and weights keep theirs).

    torch.onnx names every node and value after its module path; on a tiny model those strings
    are a fifth of the file. The names carry no meaning for onnxruntime.
    """
    import onnx

    model = onnx.load(path)
    g = model.graph
    keep = {v.name for v in g.input} | {v.name for v in g.output} | {i.name for i in g.initializer}
    rename: Dict[str, str] = {}

    def short(name: str) -> str:
        if name == "" or name in keep:
            return name
        if name not in rename:
            rename[name] = f"v{len(rename)}"
        return rename[name]

    for node in g.node:
        node.name = ""
        node.doc_string = ""
        for i, n in enumerate(node.input):
            node.input[i] = short(n)
        for i, n in enumerate(node.output):
            node.output[i] = short(n)
    for vi in g.value_info:
        vi.name = short(vi.name)
    onnx.save(model, path)


def export_with_manifest(
    model: GPT,
    out_dir: str,
    name: str,
    schedule: Dict,
    dtype: str = "float32",
    class_names: Optional[List[str]] = None,
    sampling: Optional[Dict] = None,
    codebook: Optional[str] = None,
    provenance: Optional[Dict] = None,
) -> Dict:
    """Export ``<out_dir>/<name>.onnx`` and write ``<out_dir>/<name>.json``; returns the manifest."""
    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    t0 = time.time()
    export_onnx(model, onnx_path, dtype=dtype)
    prov = dict(provenance or {})
    prov.setdefault("torch", torch.__version__)
    prov.setdefault("exportSeconds", round(time.time() - t0, 2))
    manifest = build_manifest(
        name=name,
        onnx_path=onnx_path,
        cfg=model.config,
        schedule=schedule,
        dtype=dtype,
        class_names=class_names,
        sampling=sampling,
        codebook=codebook,
        provenance=prov,
    )
    write_json_atomic(os.path.join(out_dir, f"{name}.json"), manifest)
    return manifest
