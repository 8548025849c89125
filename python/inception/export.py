"""Export the FID Inception as one ONNX graph plus its feature manifest (``parlab-image-features/1``).

Graph (opset 17; batch, height and width dynamic; float32):

  input   pictures  float32 [B, 3, H, W]  RGB, NCHW, values 0..255 (uint8 range), any H and W
  output  pool      float32 [B, 2048]     TF's pool_3: FID, precision/recall
          logits    float32 [B, 1008]     pool_3 x softmax weights, *without* the bias: what ADM's
                                          evaluator (and the original Inception Score) softmaxes for IS
          spatial   float32 [B, 2023]     TF's mixed_6/conv (Mixed_6d.branch1x1 after its ReLU), first 7
                                          channels, flattened in TF's NHWC order (17 x 17 x 7): ADM's sFID

Inside: the resize to 299x299 and the scaling (``preprocess.py``: ``adm`` or ``pytorch-fid``), then
the network (``model.py``). Batch norm is folded into the convolutions by the export.

The manifest's ``input`` says how parlab feeds the graph: ``mean`` 0 and ``std`` 1/255, so the values
the graph gets are the pixels themselves; ``height``/``width`` (``--input-size``, default 256, ImageNet
256's and ADM's reference batches' size) is the size pictures enter the graph at unchanged. Pictures of
another size are first resized to it by parlab with sharp (``resize``, default ``cubic``), on uint8
pictures, like LlamaGen/PAR shrink 384 -> 256 before saving samples for ADM's evaluator; the graph
then resizes to 299 in float exactly as the reference does.
"""
from __future__ import annotations

import os
import time
import warnings
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from ..manifest import sha256_file, write_json_atomic
from .model import INPUT_SIDE, NUM_CLASSES, SPATIAL_CHANNELS, FIDInceptionV3
from .preprocess import PREPROCESS_MODES, preprocess

FEATURES_FORMAT = "parlab-image-features/1"
OPSET = 17
SPATIAL_DIM = SPATIAL_CHANNELS * 17 * 17  # 2023
RESIZE_KERNELS = ("nearest", "linear", "cubic", "lanczos3")


class FidFeatureGraph(nn.Module):
    """pictures (0..255) -> (pool, logits, spatial): what the exported graph computes."""

    def __init__(self, net: FIDInceptionV3, mode: str = "adm"):
        super().__init__()
        if mode not in PREPROCESS_MODES:
            raise ValueError(f"preprocess mode must be one of {', '.join(PREPROCESS_MODES)}, got {mode!r}")
        self.net = net
        self.mode = mode

    def forward(self, pictures: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pool, spatial_map = self.net(preprocess(pictures, self.mode, INPUT_SIDE))
        logits = torch.matmul(pool, self.net.fc.weight.t())  # no bias: ADM's _create_softmax_graph
        spatial = spatial_map[:, :SPATIAL_CHANNELS].permute(0, 2, 3, 1).reshape(-1, SPATIAL_DIM)
        return pool, logits, spatial


def parse_size(text: str) -> Tuple[int, int]:
    """``"256"`` or ``"HxW"`` -> (height, width)."""
    parts = text.lower().split("x")
    try:
        hw = [int(p) for p in parts]
    except ValueError:
        hw = []
    if len(hw) == 1:
        hw = hw * 2
    if len(hw) != 2 or min(hw) < 1:
        raise ValueError(f'"{text}" is not a size: write e.g. 256 or 240x320 (height x width)')
    return hw[0], hw[1]


def export_graph(graph: FidFeatureGraph, path: str, example_hw: Tuple[int, int] = (64, 64)) -> str:
    """Write ``graph`` to ``path`` (atomically); returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    example = torch.rand(2, 3, *example_hw) * 255
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 1.13's shape-inference chatter
        torch.onnx.export(
            graph.eval(), (example,), tmp, input_names=["pictures"], output_names=["pool", "logits", "spatial"],
            dynamic_axes={"pictures": {0: "batch", 2: "height", 3: "width"}, "pool": {0: "batch"},
                          "logits": {0: "batch"}, "spatial": {0: "batch"}},
            opset_version=OPSET, do_constant_folding=True)
    import onnx

    model = onnx.load(tmp)
    # torch leaves the spatial width symbolic (the resize's output size is computed in the graph);
    # it is 17 x 17 x 7 at every input size
    for out in model.graph.output:
        if out.name == "spatial":
            dim = out.type.tensor_type.shape.dim[1]
            dim.ClearField("dim_param")
            dim.dim_value = SPATIAL_DIM
    onnx.checker.check_model(model)
    onnx.save(model, tmp)
    os.replace(tmp, path)
    return path


def export_features(
    net: FIDInceptionV3,
    out_dir: str,
    name: str = "inception-fid",
    mode: str = "adm",
    input_size: Tuple[int, int] = (256, 256),
    resize: str = "cubic",
    provenance: Optional[Dict] = None,
) -> Dict:
    """Write ``<name>.onnx`` and ``<name>.json`` into ``out_dir``; returns the manifest."""
    if resize not in RESIZE_KERNELS:
        raise ValueError(f"resize kernel must be one of {', '.join(RESIZE_KERNELS)}, got {resize!r}")
    t0 = time.time()
    onnx_name = f"{name}.onnx"
    path = export_graph(FidFeatureGraph(net.eval(), mode), os.path.join(out_dir, onnx_name))
    prov = dict(provenance or {})
    prov.update({
        "architecture": "fid-inception-v3 (TF inception-2015-12-05, pytorch-fid's layout)",
        "width": net.width,
        "parameters": net.parameter_count(),
        "preprocess": mode,
        "preprocessSteps": (
            "Resize to 299x299, linear, asymmetric (TF 1.x ResizeBilinear, as ADM's evaluator); (x - 128) / 128"
            if mode == "adm" else
            "x / 255; Resize to 299x299, linear, half-pixel (F.interpolate bilinear, as pytorch-fid); 2x - 1"),
        "outputs": {
            "pool": "pool_3, 2048-d average pool of Mixed_7c (FID, precision/recall)",
            "logits": "pool_3 x softmax weights, no bias, 1008 classes (ADM's and the original Inception Score)",
            "spatial": "mixed_6/conv = Mixed_6d.branch1x1 after ReLU, first 7 channels, NHWC-flattened 17x17x7 (ADM's sFID)",
        },
        "classes": "TF's 1008 outputs: index 0 background, 1000 ImageNet classes in TF's own order, unused slots",
        "torch": torch.__version__,
        "opset": OPSET,
        "exportSeconds": round(time.time() - t0, 2),
    })
    height, width = input_size
    manifest = {
        "format": FEATURES_FORMAT,
        "name": name,
        "onnx": onnx_name,
        "sha256": sha256_file(path),
        "bytes": os.path.getsize(path),
        "input": {"name": "pictures", "layout": "NCHW", "height": height, "width": width,
                  "mean": [0.0, 0.0, 0.0], "std": [1 / 255] * 3, "resize": resize, "batchSize": None},
        "outputs": {"features": "pool", "logits": "logits", "spatial": "spatial"},
        "featureDim": net.pool_dim,
        "classNames": [f"tf{i}" for i in range(NUM_CLASSES)],
        "provenance": prov,
    }
    write_json_atomic(os.path.join(out_dir, f"{name}.json"), manifest)
    return manifest
