"""2D rotary position table, laid out exactly as LlamaGen/PAR's ``precompute_freqs_cis_2d``.

Their table (per head, ``head_dim`` channels as ``head_dim // 2`` interleaved pairs) is built from
``half = head_dim // 2`` and ``freqs = base ** -(arange(0, half, 2)[: half // 2] / half)``: for
the cell at (row, col) the first ``half // 2`` pairs rotate by ``row * freqs`` and the last
``half // 2`` pairs by ``col * freqs``. LlamaGen indexes the table by raster position after one
zero row per class token; PAR reorders the grid rows into its region order and inserts zero rows
for the transition tokens. Both are the same per-cell table indexed differently, so here it is
indexed by flat cell index: row ``cell + 1`` holds the cell, row 0 is the zero row (cos = sin = 0)
used for every slot without a position (class, transition). The zero row zeroes q and k of
those slots: their quirk, kept so that checkpoints behave as trained.

Video models (frames > 1) use ``rope_table_3d``: the same zero row and flat-cell indexing over
F x H x W, the pairs split into time, row and column groups (``rope_split_3d``). Either way the
graph gathers rows by position id, so the step contract does not change.
"""
from __future__ import annotations

from typing import Tuple

import torch


def rope_table(height: int, width: int, head_dim: int, base: float = 10000.0) -> torch.Tensor:
    """Return the table ``[1 + height * width, head_dim // 2, 2]`` (cos, sin); row 0 is zero."""
    if head_dim % 4 != 0:
        raise ValueError(f"head_dim {head_dim} must be a multiple of 4 for 2D RoPE")
    half = head_dim // 2
    freqs = 1.0 / (base ** (torch.arange(0, half, 2)[: half // 2].float() / half))
    rows = torch.outer(torch.arange(height).float(), freqs)  # [H, half/2]
    cols = torch.outer(torch.arange(width).float(), freqs)  # [W, half/2]
    angles = torch.cat(
        [rows[:, None, :].expand(-1, width, -1), cols[None, :, :].expand(height, -1, -1)], dim=-1
    )  # [H, W, half]: row pairs first, then column pairs
    grid = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1).reshape(height * width, half, 2)
    return torch.cat([torch.zeros(1, half, 2), grid], dim=0)


def apply_rope(x: torch.Tensor, cos_sin: torch.Tensor) -> torch.Tensor:
    """Rotate interleaved channel pairs of ``x`` [B, T, H, D] by ``cos_sin`` [B, T, D/2, 2]."""
    xs = x.float().reshape(x.shape[0], x.shape[1], x.shape[2], -1, 2)
    cs = cos_sin.unsqueeze(2)  # [B, T, 1, D/2, 2]
    cos, sin = cs[..., 0], cs[..., 1]
    a, b = xs[..., 0], xs[..., 1]
    out = torch.stack([a * cos - b * sin, b * cos + a * sin], dim=-1)
    return out.flatten(3).type_as(x)


def rope_split_3d(head_dim: int) -> Tuple[int, int, int]:
    """How the ``head_dim // 2`` rotary pairs of a video model are shared: (time, row, column).

    The row and column groups get ``floor(3 * pairs / 8)`` pairs each and time the rest (at least
    a quarter). Why: within a frame the row and column play the roles they play in the 2D table,
    so they get equal groups; a clip has fewer frames than a frame has rows or columns (5 vs 8x8
    in fixtures/video), so time gets the smallest group. The proportion is the one published 3D
    RoPE video models use (Qwen2-VL's M-RoPE gives 16 / 24 / 24 of 64 pairs, CogVideoX 1/4, 3/8,
    3/8), so a head_dim of 128 splits exactly as theirs.
    """
    pairs = head_dim // 2
    spatial = (3 * pairs) // 8
    if head_dim % 2 != 0 or spatial < 1:
        raise ValueError(f"head_dim {head_dim} is too small for 3D RoPE: it needs at least 6 channels (3 pairs)")
    return pairs - 2 * spatial, spatial, spatial


def _ladder(n: int, base: float) -> torch.Tensor:
    """A group's n frequencies ``base ** (-2i / (2n))``, i < n: the 2D table's ladder for its n pairs."""
    return 1.0 / (base ** (torch.arange(0, 2 * n, 2)[:n].float() / (2 * n)))


def rope_table_3d(frames: int, height: int, width: int, head_dim: int, base: float = 10000.0) -> torch.Tensor:
    """Return the video table ``[1 + frames * height * width, head_dim // 2, 2]`` (cos, sin).

    Row 0 is the zero row (class and transition slots, as in 2D); row ``1 + f*H*W + r*W + c`` holds
    the cell at frame f, row r, column c (the flat cell index of src/media/grid.ts, plus one). The
    pairs are split by ``rope_split_3d`` into time, row and column groups, in that order, each
    rotating by its coordinate times its own frequency ladder. A model with one frame uses
    ``rope_table`` (the LlamaGen/PAR layout) instead, so image models keep their exact table.
    """
    nt, nr, nc = rope_split_3d(head_dim)
    f = torch.arange(frames).float()[:, None, None, None]
    r = torch.arange(height).float()[None, :, None, None]
    c = torch.arange(width).float()[None, None, :, None]
    shape = (frames, height, width, -1)
    angles = torch.cat(
        [(f * _ladder(nt, base)).expand(*shape), (r * _ladder(nr, base)).expand(*shape),
         (c * _ladder(nc, base)).expand(*shape)],
        dim=-1,
    )  # [F, H, W, pairs]: time pairs, then row pairs, then column pairs
    grid = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1).reshape(frames * height * width, -1, 2)
    return torch.cat([torch.zeros(1, grid.shape[1], 2), grid], dim=0)
