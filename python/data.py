"""Token data for training: the emoji fixtures (or synthetic grids) and flip augmentation.

Emoji fixtures (fixtures/emoji/): ``{train,val}.tokens.npy.gz`` uint16 [N, 24, 24],
``{train,val}.labels.npy.gz`` uint8 [N], ``codebook.npy.gz`` float32 [K, P, P, 3], manifest.json.

Horizontal flip = decode to pixels, mirror, re-encode by the nearest code. Because every token
covers its own P x P patch, the mirrored picture's patch at (r, c) is the code of (r, W-1-c) with
its columns mirrored; so the re-encoding is one map over the codebook, ``flip_map[k]`` = nearest
code to code k mirrored, and ``flipped = flip_map[tokens[:, :, ::-1]]``: the same result as
re-encoding every pixel patch, computed once.
"""
from __future__ import annotations

import gzip
import io
import json
import os
from dataclasses import dataclass
from typing import List, Optional

import numpy as np


def load_npy_gz(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.load(io.BytesIO(f.read()), allow_pickle=False)


def flip_map(codebook: np.ndarray) -> np.ndarray:
    """For each code k, the nearest code (L2 over the patch's pixels) to k mirrored left-right."""
    k = codebook.shape[0]
    flat = codebook.reshape(k, -1).astype(np.float64)
    mirrored = codebook[:, :, ::-1, :].reshape(k, -1).astype(np.float64)
    d = (mirrored**2).sum(1)[:, None] - 2 * mirrored @ flat.T + (flat**2).sum(1)[None, :]
    return d.argmin(1).astype(np.int64)


@dataclass
class TokenData:
    train_tokens: np.ndarray  # int64 [N, H*W]
    train_labels: np.ndarray  # int64 [N]
    val_tokens: np.ndarray
    val_labels: np.ndarray
    train_flipped: Optional[np.ndarray]  # int64 [N, H*W] or None (no augmentation)
    vocab_size: int
    class_names: List[str]
    height: int
    width: int
    source: dict
    codebook_path: Optional[str] = None


def load_emoji(folder: str, flip: bool = True) -> TokenData:
    man_path = os.path.join(folder, "manifest.json")
    if not os.path.isfile(man_path):
        raise FileNotFoundError(f"{man_path} not found: pass --data pointing at fixtures/emoji or use --synthetic N")
    man = json.load(open(man_path))
    h, w = man["grid"]["height"], man["grid"]["width"]
    tt = load_npy_gz(os.path.join(folder, "train.tokens.npy.gz")).astype(np.int64)
    vt = load_npy_gz(os.path.join(folder, "val.tokens.npy.gz")).astype(np.int64)
    tl = load_npy_gz(os.path.join(folder, "train.labels.npy.gz")).astype(np.int64)
    vl = load_npy_gz(os.path.join(folder, "val.labels.npy.gz")).astype(np.int64)
    codebook = load_npy_gz(os.path.join(folder, "codebook.npy.gz"))
    flipped = None
    if flip:
        flipped = flip_map(codebook)[tt[:, :, ::-1]].reshape(len(tt), -1)
    return TokenData(
        tt.reshape(len(tt), -1), tl, vt.reshape(len(vt), -1), vl, flipped, int(man["K"]),
        list(man["classNames"]), h, w,
        {"data": os.path.normpath(folder), "train": int(len(tt)), "val": int(len(vt))},
        codebook_path=os.path.join(folder, "codebook.npy.gz"),
    )


def synthetic(n: int, height: int = 24, width: int = 24, vocab: int = 1024, classes: int = 4, seed: int = 0) -> TokenData:
    """Smooth class-dependent token fields (a stand-in until real data exists): neighbours correlate."""
    rng = np.random.default_rng(seed)

    def make(count):
        labels = rng.integers(0, classes, count)
        ys, xs = np.mgrid[0:height, 0:width]
        out = np.empty((count, height * width), dtype=np.int64)
        for i, c in enumerate(labels):
            fy, fx, ph = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4), rng.uniform(0, 6.28)
            field = np.sin(fy * ys + ph) + np.cos(fx * xs + c)
            q = ((field + 2) / 4 * (vocab // classes - 1)).astype(np.int64) + c * (vocab // classes)
            noise = rng.random(q.shape) < 0.05
            q[noise] = rng.integers(0, vocab, noise.sum())
            out[i] = q.reshape(-1)
        return out, labels

    tt, tl = make(n)
    vt, vl = make(max(8, n // 10))
    flipped = tt.reshape(n, height, width)[:, :, ::-1].reshape(n, -1).copy()
    return TokenData(tt, tl, vt, vl, flipped, vocab, [f"class {i}" for i in range(classes)], height, width,
                     {"data": f"synthetic({n}, seed={seed})"})
