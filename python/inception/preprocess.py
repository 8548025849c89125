"""What happens to pictures before the FID Inception sees them, in the exported graph's own ops.

The graph takes RGB pictures as float32 NCHW values 0..255 (uint8 range), any height and width, and
resizes them to 299x299 in float before scaling, as both references do inside their models:

``adm`` (default): ADM's evaluator (``evaluations/evaluator.py``) feeds float pictures 0..255 to the TF
  graph ``classify_image_graph_def.pb`` at ``ExpandDims:0``; the graph then runs ``ResizeBilinear`` to
  299x299 (TF 1.x: ``align_corners=False`` without half-pixel centres, i.e. source = dest * in/out,
  lower neighbour ``floor``, upper one clamped to the last row/column) and ``(x - 128) / 128``
  (``Sub``, ``Mul 0.0078125``), giving [-1, 0.9921875]. In ONNX: ``Resize`` (linear,
  ``asymmetric``), then the same scaling.
``pytorch-fid``: pytorch-fid's ``InceptionV3`` takes [0, 1] pictures (``x / 255``), resizes them with
  ``F.interpolate(size=(299, 299), mode="bilinear", align_corners=False)`` (half-pixel centres) and
  maps them to [-1, 1] with ``2 x - 1``.

Neither antialiases when it shrinks (a larger picture is point-sampled by the bilinear kernel). The two
modes give slightly different features; reference statistics must come from the same mode (ADM's
``VIRTUAL_imagenet256_labeled.npz``: ``adm``; pytorch-fid's ``.npz`` statistics: ``pytorch-fid``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .model import INPUT_SIDE

PREPROCESS_MODES = ("adm", "pytorch-fid")


def tf1_bilinear(x: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """TF 1.x ``ResizeBilinear(align_corners=False)`` of NCHW float pictures, computed as TF's kernel
    does: interpolate along the width, then along the height, each as ``a + (b - a) * t``."""
    _, _, in_h, in_w = x.shape

    def axis(n_in: int, n_out: int):
        scale = torch.tensor(n_in / n_out, dtype=torch.float32)
        src = torch.arange(n_out, dtype=torch.float32) * scale
        lo = torch.floor(src).long()
        hi = torch.clamp(lo + 1, max=n_in - 1)
        return lo, hi, src - lo.float()

    ylo, yhi, ty = axis(in_h, out_h)
    xlo, xhi, tx = axis(in_w, out_w)
    left, right = x[:, :, :, xlo], x[:, :, :, xhi]
    rows = left + (right - left) * tx.view(1, 1, 1, out_w)
    top, bottom = rows[:, :, ylo, :], rows[:, :, yhi, :]
    return top + (bottom - top) * ty.view(1, 1, out_h, 1)


class _Tf1Resize(torch.autograd.Function):
    """PyTorch: :func:`tf1_bilinear`. ONNX: one ``Resize`` node (linear, asymmetric) to side x side,
    which is TF 1.x's resize by definition; the parity test compares the two."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, side: int) -> torch.Tensor:  # noqa: D401
        return tf1_bilinear(x, side, side)

    @staticmethod
    def symbolic(g, x, side: int):
        shape = g.op("Shape", x)
        starts = g.op("Constant", value_t=torch.tensor([0], dtype=torch.int64))
        ends = g.op("Constant", value_t=torch.tensor([2], dtype=torch.int64))
        batch_channels = g.op("Slice", shape, starts, ends)
        hw = g.op("Constant", value_t=torch.tensor([side, side], dtype=torch.int64))
        sizes = g.op("Concat", batch_channels, hw, axis_i=0)
        empty = g.op("Constant", value_t=torch.tensor([], dtype=torch.float32))
        return g.op("Resize", x, empty, empty, sizes, mode_s="linear",
                    coordinate_transformation_mode_s="asymmetric", nearest_mode_s="floor")


def preprocess(pictures: torch.Tensor, mode: str = "adm", side: int = INPUT_SIDE) -> torch.Tensor:
    """Float NCHW pictures 0..255 (any size) -> the network's input, [N, 3, side, side] in about [-1, 1]."""
    if mode == "adm":
        x = _Tf1Resize.apply(pictures, side)
        return (x - 128.0) * 0.0078125  # TF's Sub 128, Mul 1/128 (exact in float32)
    if mode == "pytorch-fid":
        x = F.interpolate(pictures / 255.0, size=(side, side), mode="bilinear", align_corners=False)
        return 2.0 * x - 1.0
    raise ValueError(f"preprocess mode must be one of {', '.join(PREPROCESS_MODES)}, got {mode!r}")
