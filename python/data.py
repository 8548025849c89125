"""Token data for training: the emoji fixtures, the video clips (or synthetic grids and clips)
and flip augmentation.

Emoji fixtures (fixtures/emoji/, format ``parlab-emoji-tokens/1``): ``{train,val}.tokens.npy.gz``
uint16 [N, 24, 24], ``{train,val}.labels.npy.gz`` uint8 [N], ``codebook.npy.gz`` float32
[K, P, P, 3], manifest.json. Video clips (fixtures/video/, format ``parlab-video-tokens/1``):
tokens uint16 [N, F, H, W], labels, and a manifest whose ``grid`` has ``frames`` and whose
``tokenizer.codebook`` names the codebook the frames were tokenized with (relative to the folder).
Either way a grid is flattened frame-major (cell ``f*H*W + r*W + c``), the model's cell order.

Horizontal flip = decode to pixels, mirror, re-encode by the nearest code. Because every token
covers its own P x P patch, the mirrored picture's patch at (r, c) is the code of (r, W-1-c) with
its columns mirrored; so the re-encoding is one map over the codebook, ``flip_map[k]`` = nearest
code to code k mirrored, and ``flipped = flip_map[tokens[:, :, ::-1]]``: the same result as
re-encoding every pixel patch, computed once. A clip is flipped whole: every frame mirrored the
same way, so the motion mirrors with it (a clip flipped frame by frame at random would not be a
plausible clip).
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
    frames: int = 1  # > 1: video clips, each grid frames x height x width, flattened frame-major


VIDEO_FORMAT = "parlab-video-tokens/1"


def _tokens(folder: str, split: str, shape: tuple) -> np.ndarray:
    """A split's token file, checked against the manifest's grid (``shape`` = grid dims without N)."""
    path = os.path.join(folder, f"{split}.tokens.npy.gz")
    tokens = load_npy_gz(path)
    if tokens.ndim != 1 + len(shape) or tuple(tokens.shape[1:]) != tuple(shape):
        raise ValueError(f"{path} has shape {list(tokens.shape)} but manifest.json's grid says [N, "
                         f"{', '.join(map(str, shape))}]: rebuild the folder (deno task data / data:video)")
    return tokens.astype(np.int64)


def load_emoji(folder: str, flip: bool = True) -> TokenData:
    """Load a token fixtures folder: emoji pictures or, by the manifest's format, video clips."""
    man_path = os.path.join(folder, "manifest.json")
    if not os.path.isfile(man_path):
        raise FileNotFoundError(f"{man_path} not found: pass --data pointing at fixtures/emoji (pictures) or"
                                " fixtures/video (clips), or use --synthetic N")
    man = json.load(open(man_path))
    video = man.get("format") == VIDEO_FORMAT
    f = int(man["grid"].get("frames", 1)) if video else 1
    h, w = man["grid"]["height"], man["grid"]["width"]
    shape = (f, h, w) if video else (h, w)
    tt, vt = _tokens(folder, "train", shape), _tokens(folder, "val", shape)
    tl = load_npy_gz(os.path.join(folder, "train.labels.npy.gz")).astype(np.int64)
    vl = load_npy_gz(os.path.join(folder, "val.labels.npy.gz")).astype(np.int64)
    # pictures keep their codebook beside them; clips name theirs (tokenized with fixtures/emoji16's)
    codebook_path = os.path.join(folder, (man.get("tokenizer") or {}).get("codebook") or "codebook.npy.gz")
    codebook_path = os.path.normpath(codebook_path)
    flipped = None
    if flip:
        if not os.path.isfile(codebook_path):
            raise FileNotFoundError(f"{codebook_path} not found (the codebook of {man_path}): restore it, or"
                                    " pass --no-flip to train without flips")
        flipped = flip_map(load_npy_gz(codebook_path))[tt[..., ::-1]].reshape(len(tt), -1)
    return TokenData(
        tt.reshape(len(tt), -1), tl, vt.reshape(len(vt), -1), vl, flipped, int(man["K"]),
        list(man["classNames"]), h, w,
        {"data": os.path.normpath(folder), "train": int(len(tt)), "val": int(len(vt))},
        codebook_path=codebook_path, frames=f,
    )


def synthetic(n: int, height: int = 24, width: int = 24, vocab: int = 1024, classes: int = 4, seed: int = 0,
              frames: int = 1) -> TokenData:
    """Smooth class-dependent token fields (a stand-in until real data exists): neighbours correlate.
    With ``frames`` > 1, clips: the field drifts by a class-dependent velocity from frame to frame."""
    if frames > 1:
        return _synthetic_clips(n, frames, height, width, vocab, classes, seed)
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


# Per class, the drift (rows, columns per frame) of a synthetic clip's field, so a model must use the
# earlier frames to predict the later ones: still, down, up, sideways (either way, drawn per clip).
# Each class is its own mirror image, so the horizontal flip keeps clips true to their labels.
_DRIFT = [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0)]


def _synthetic_clips(n: int, frames: int, height: int, width: int, vocab: int, classes: int, seed: int) -> TokenData:
    rng = np.random.default_rng(seed)
    band = vocab // classes

    def make(count):
        labels = rng.integers(0, classes, count)
        ts, ys, xs = np.mgrid[0:frames, 0:height, 0:width]
        out = np.empty((count, frames * height * width), dtype=np.int64)
        for i, c in enumerate(labels):
            fy, fx, ph = rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9), rng.uniform(0, 6.28)
            vy, vx = _DRIFT[c % len(_DRIFT)]
            vx *= rng.choice([-1.0, 1.0])
            field = np.sin(fy * (ys - vy * ts) + ph) + np.cos(fx * (xs - vx * ts) + c)
            q = ((field + 2) / 4 * (band - 1)).astype(np.int64) + c * band
            noise = rng.random(q.shape) < 0.05
            q[noise] = rng.integers(0, vocab, noise.sum())
            out[i] = q.reshape(-1)
        return out, labels

    tt, tl = make(n)
    vt, vl = make(max(8, n // 10))
    flipped = tt.reshape(n, frames, height, width)[..., ::-1].reshape(n, -1).copy()  # every frame alike
    return TokenData(tt, tl, vt, vl, flipped, vocab, [f"class {i}" for i in range(classes)], height, width,
                     {"data": f"synthetic clips({n}, {frames}x{height}x{width}, seed={seed})"}, frames=frames)


def synthetic_palette(vocab: int, classes: int = 4, patch: int = 6) -> np.ndarray:
    """A patch codebook float32 [vocab, patch, patch, 3] (0..255) that makes synthetic tokens visible:
    ``synthetic`` draws class c's tokens from band c (``vocab // classes`` codes, low to high field
    value), so code ``c * band + l`` is a flat patch in hue c at brightness l. Decoded, a synthetic
    clip shows its field drifting in its class's colour. Codes past the last band are grey."""
    hues = np.array([[230, 60, 50], [60, 170, 70], [50, 90, 220], [240, 160, 30]], dtype=np.float64)
    band = vocab // classes
    out = np.full((vocab, patch, patch, 3), 128.0, dtype=np.float32)
    for k in range(band * classes):
        c, level = divmod(k, band)
        shade = 0.2 + 0.8 * level / max(1, band - 1)
        out[k] = (hues[c % len(hues)] * shade).round()
    return out
