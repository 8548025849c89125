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
"""
from __future__ import annotations

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
