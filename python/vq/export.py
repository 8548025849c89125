"""Export a VQ tokenizer as two ONNX graphs plus a tokenizer manifest (format ``parlab-tokenizer/1``).

Graphs (opset 17; batch, height and width dynamic; float32 compute):

  <name>.encode.onnx   input  pixels float32 [B, 3, H, W]  RGB, NCHW, in [-1, 1] (x / 127.5 - 1)
                       output codes  int64   [B, H/ds, W/ds]  nearest code (LlamaGen's argmin on the
                                                           l2-normalised vectors; ties: lowest id)
  <name>.decode.onnx   input  codes  int64   [B, h, w]       ids in [0, codebookSize)
                       output pixels float32 [B, 3, h*ds, w*ds]  the decoder's output as is (about
                                                           [-1, 1], NOT clamped)

To 8-bit pixels as the official samplers do: ``uint8(trunc(clamp(127.5 * x + 128, 0, 255)))``.
H and W must be multiples of ``downsample``. ``dtype="float16"`` stores the weights as fp16
initializers cast to fp32 inside the graph (inputs/outputs unchanged), like python/export.py; the
numbers are then those of the float32 model with fp16-rounded weights (``round_vq_to_fp16``).
Graphs over 2 GB (impossible for LlamaGen's 72M-parameter tokenizer, possible for a wider one)
get their weights in one external data file ``<graph>.onnx.data`` beside it, as python/export.py
does; every file is listed with its sha256 in the manifest's ``files``. ``external_data=True``
forces that layout for testing loaders.
"""
from __future__ import annotations

import copy
import os
import time
import warnings
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from ..export import compact_names, gather_external_data
from ..manifest import file_entries, graph_files, write_json_atomic
from .model import VQModel

TOKENIZER_FORMAT = "parlab-tokenizer/1"
OPSET = 17


class EncodeGraph(nn.Module):
    def __init__(self, model: VQModel):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode(pixels)


class DecodeGraph(nn.Module):
    def __init__(self, model: VQModel):
        super().__init__()
        self.model = model

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes)


def _prepare(model: VQModel, dtype: str) -> VQModel:
    if dtype not in ("float32", "float16"):
        raise ValueError(f'dtype must be "float32" or "float16", got {dtype!r}')
    m = copy.deepcopy(model).eval().float()
    if hasattr(m.quantize, "codebook_used"):  # training statistics: not part of either graph
        del m.quantize.codebook_used
    if dtype == "float16":
        m = m.half()
    return m


def graph_weights(onnx_path: str) -> Dict[str, "np.ndarray"]:
    """Every weight of an exported graph by its module path (``model.`` stripped), as float32 arrays;
    weights torch merged into one initializer are resolved through their ``Identity`` nodes."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    g = onnx.load(onnx_path)  # external data is read from the graph's folder
    arrays = {i.name: numpy_helper.to_array(i) for i in g.graph.initializer}
    for n in g.graph.node:
        if n.op_type == "Identity" and n.input[0] in arrays:
            arrays[n.output[0]] = arrays[n.input[0]]
    return {k[len("model."):]: np.asarray(v, dtype=np.float32) for k, v in arrays.items() if k.startswith("model.")}


def export_graph(kind: str, model: VQModel, path: str, dtype: str = "float32", external_data: bool = False) -> str:
    """Write the ``encode`` or ``decode`` graph of ``model`` to ``path``; returns the path."""
    m = _prepare(model, dtype)
    ds = m.config.downsample
    if kind == "encode":
        graph, args = EncodeGraph(m), (torch.zeros(2, m.config.in_channels, 2 * ds, 2 * ds),)
        names, outs = ["pixels"], ["codes"]
        axes = {"pixels": {0: "batch", 2: "height", 3: "width"}, "codes": {0: "batch", 1: "rows", 2: "cols"}}
    elif kind == "decode":
        graph, args = DecodeGraph(m), (torch.zeros(2, 2, 2, dtype=torch.long),)
        names, outs = ["codes"], ["pixels"]
        axes = {"codes": {0: "batch", 1: "rows", 2: "cols"}, "pixels": {0: "batch", 2: "height", 3: "width"}}
    else:
        raise ValueError(f'kind must be "encode" or "decode", got {kind!r}')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch 1.13's shape-inference chatter on every export
        # no constant folding: it would turn the fp16 initializers' casts back into fp32 constants
        # (onnxruntime folds them at session creation anyway) and rename the weights
        torch.onnx.export(graph, args, tmp, input_names=names, output_names=outs, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=False)
    compact_names(tmp, keep_weight_aliases=True)
    os.replace(tmp, path)
    gather_external_data(path, force=external_data)  # over 2 GB, or forced: one <graph>.onnx.data
    return path


def tokenizer_manifest_name(name: str) -> str:
    return f"{name}.tokenizer.json"


def export_tokenizer(
    model: VQModel,
    out_dir: str,
    name: str,
    image_size: int,
    dtype: str = "float32",
    external_data: bool = False,
    provenance: Optional[Dict] = None,
) -> Dict:
    """Write ``<name>.encode.onnx``, ``<name>.decode.onnx`` and ``<name>.tokenizer.json``; returns the manifest."""
    cfg = model.config
    ds = cfg.downsample
    if image_size % ds:
        raise ValueError(f"image size {image_size} is not a multiple of the downsample factor {ds}")
    t0 = time.time()
    paths = {}
    for kind in ("encode", "decode"):
        paths[kind] = export_graph(kind, model, os.path.join(out_dir, f"{name}.{kind}.onnx"), dtype, external_data)
    files: List[str] = []
    for kind in ("encode", "decode"):
        files += graph_files(paths[kind])
    prov = dict(provenance or {})
    prov.setdefault("torch", torch.__version__)
    prov.setdefault("exportSeconds", round(time.time() - t0, 2))
    prov.setdefault("parameters", model.parameter_counts())
    grid = image_size // ds
    manifest = {
        "format": TOKENIZER_FORMAT,
        "kind": "vq",
        "name": name,
        "architecture": "llamagen-vq",
        "codebookSize": cfg.codebook_size,
        "embedDim": cfg.codebook_embed_dim,
        "downsample": ds,
        "imageSize": image_size,
        "grid": {"height": grid, "width": grid},
        "channels": cfg.in_channels,
        "dtype": dtype,
        "pixels": {"layout": "NCHW", "channels": "RGB", "range": [-1, 1],
                   "toUint8": "clamp(127.5 * x + 128, 0, 255), truncated"},
        "encode": {"onnx": graph_files(paths["encode"])[0], "input": "pixels", "output": "codes"},
        "decode": {"onnx": graph_files(paths["decode"])[0], "input": "codes", "output": "pixels"},
        "files": file_entries(out_dir, files),
        "config": cfg.to_dict(),
        "provenance": prov,
    }
    write_json_atomic(os.path.join(out_dir, tokenizer_manifest_name(name)), manifest)
    return manifest
