"""Golden files for a VQ tokenizer's ONNX graphs: inputs and PyTorch outputs, for onnxruntime parity.

    # the committed fixture's golden (python -m python.vq.fixture calls this)
    /usr/bin/python3 -m python.vq.golden --tokenizer fixtures/tokenizers/vq-tiny16.tokenizer.json
    # full VQ-16 with random weights, exported and recorded in one go (the CI parity test's input)
    /usr/bin/python3 -m python.vq.golden --random VQ-16 --out /tmp/vq16 [--decode 1x24x24 --encode 1x384x384]

Writes ``<folder>/`` (default ``<tokenizer manifest without .tokenizer.json>.golden/``):

  index.json          format "parlab-vq-golden/1": tokenizer (manifest path relative to this
                      folder), dtype, tolerance (1e-4, max abs on pixels), marginFloor, torch, and
                      the file names below
  decode.codes.npy    int64   [N, h, w]        code grids (seeded uniform ids)
  decode.pixels.npy   float32 [N, 3, h*ds, w*ds]  PyTorch's decode of them (not clamped)
  encode.pixels.npy   float32 [M, 3, H, W]     smooth seeded pictures in [-1, 1]
  encode.codes.npy    int64   [M, H/ds, W/ds]  PyTorch's codes for them
  encode.margins.npy  float32 [M, H/ds, W/ds]  second-smallest minus smallest code distance: a
                      runtime whose float32 sums differ in the last bits may pick the other code
                      only where this is tiny; compare codes where margin > marginFloor (1e-5)

The PyTorch reference is the model whose weights are read back from the exported graphs (so an
fp16-stored tokenizer is compared with its fp16-rounded weights, and the check also proves the
graphs hold every weight under its LlamaGen name).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from ..manifest import sha256_file, write_json_atomic
from .model import VQ_CONFIGS, VQConfig, VQModel, VqError, load_vq_state_strict, random_vq

GOLDEN_FORMAT = "parlab-vq-golden/1"
TOLERANCE = 1e-4
MARGIN_FLOOR = 1e-5


def load_exported_vq(manifest_path: str, verify: bool = True) -> VQModel:
    """Rebuild a VQModel (float32) from an exported tokenizer's two graphs (no onnxruntime needed)."""
    from .export import graph_weights

    folder = os.path.dirname(os.path.abspath(manifest_path))
    man = json.load(open(manifest_path))
    if man.get("format") != "parlab-tokenizer/1" or man.get("kind") != "vq":
        raise VqError(f"{manifest_path} is not a parlab-tokenizer/1 VQ manifest")
    if verify:
        for f in man["files"]:
            if sha256_file(os.path.join(folder, f["path"])) != f["sha256"]:
                raise VqError(f"{f['path']}: sha256 differs from the manifest (file changed or truncated)")
    state: Dict[str, torch.Tensor] = {}
    for kind in ("encode", "decode"):
        for k, v in graph_weights(os.path.join(folder, man[kind]["onnx"])).items():
            state[k] = torch.from_numpy(v.copy())
    cfg = VQConfig.from_dict(man["config"])
    cfg.codebook_show_usage = False
    model = VQModel(cfg)
    load_vq_state_strict(model, state, manifest_path)
    return model.eval()


def smooth_pictures(n: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """n seeded pictures [n, 3, H, W] float32 in [-1, 1]: sums of plane waves plus a disc per picture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    out = np.zeros((n, 3, height, width), dtype=np.float64)
    for i in range(n):
        for c in range(3):
            f = np.zeros_like(yy)
            for _ in range(3):
                a, b = rng.normal(0, 6, 2)
                f += rng.uniform(0.2, 0.5) * np.sin(a * yy + b * xx + rng.uniform(0, 2 * np.pi))
            out[i, c] = f
        cy, cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.3)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        out[i, :, disc] = rng.uniform(-1, 1, 3)
    return np.clip(out, -1, 1).astype(np.float32)


@torch.no_grad()
def code_margins(model: VQModel, pixels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(codes [B, h, w], margin [B, h, w]) with margin = 2nd smallest - smallest distance."""
    h = model.encode_latent(pixels)
    b, d, hh, ww = h.shape
    dist = model.quantize.distances(h.permute(0, 2, 3, 1).reshape(-1, d))
    two = torch.topk(dist, 2, dim=1, largest=False).values
    codes = torch.argmin(dist, dim=1)
    return codes.reshape(b, hh, ww), (two[:, 1] - two[:, 0]).reshape(b, hh, ww)


def parse_shape(text: str) -> Tuple[int, int, int]:
    parts = [int(p) for p in text.lower().split("x")]
    if len(parts) != 3 or min(parts) <= 0:
        raise ValueError(f"shape {text!r}: write NxHxW, e.g. 2x4x6")
    return parts[0], parts[1], parts[2]


@torch.no_grad()
def write_vq_golden(
    manifest_path: str,
    out_dir: Optional[str] = None,
    decode_shape: Tuple[int, int, int] = (2, 4, 6),
    encode_shape: Optional[Tuple[int, int, int]] = None,
    seed: int = 0,
    model: Optional[VQModel] = None,
) -> Dict:
    """Record decode/encode goldens for an exported tokenizer. ``encode_shape`` is in pixels
    (default: the decode grid times the downsample factor). ``model`` defaults to the weights read
    back from the graphs."""
    man = json.load(open(manifest_path))
    if out_dir is None:
        out_dir = manifest_path[: -len(".tokenizer.json")] + ".golden"
    model = (model or load_exported_vq(manifest_path)).eval()
    ds = man["downsample"]
    n, h, w = decode_shape
    if encode_shape is None:
        encode_shape = (n, h * ds, w * ds)
    m, eh, ew = encode_shape
    if eh % ds or ew % ds:
        raise ValueError(f"encode size {eh}x{ew} is not a multiple of the downsample factor {ds}")
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, man["codebookSize"], (n, h, w), dtype=np.int64)
    pixels = model.decode(torch.from_numpy(codes)).numpy().astype(np.float32)
    pics = smooth_pictures(m, eh, ew, seed + 1)
    got, margins = code_margins(model, torch.from_numpy(pics))
    os.makedirs(out_dir, exist_ok=True)
    arrays = {"decode.codes.npy": codes, "decode.pixels.npy": pixels, "encode.pixels.npy": pics,
              "encode.codes.npy": got.numpy().astype(np.int64), "encode.margins.npy": margins.numpy().astype(np.float32)}
    for name, arr in arrays.items():
        np.save(os.path.join(out_dir, name), np.ascontiguousarray(arr))
    index = {
        "format": GOLDEN_FORMAT,
        "tokenizer": os.path.relpath(os.path.abspath(manifest_path), os.path.abspath(out_dir)),
        "dtype": man["dtype"],
        "tolerance": TOLERANCE,
        "marginFloor": MARGIN_FLOOR,
        "torch": torch.__version__,
        "seed": seed,
        "decode": {"codes": "decode.codes.npy", "pixels": "decode.pixels.npy", "shape": [n, h, w]},
        "encode": {"pixels": "encode.pixels.npy", "codes": "encode.codes.npy", "margins": "encode.margins.npy",
                   "shape": [m, eh, ew], "minMargin": float(margins.min()),
                   "distinctCodes": int(np.unique(got.numpy()).size)},
        "pixelRange": [float(pixels.min()), float(pixels.max())],
    }
    write_json_atomic(os.path.join(out_dir, "index.json"), index)
    return index


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.vq.golden", description=__doc__.split("\n\n")[0])
    p.add_argument("--tokenizer", help="an exported <name>.tokenizer.json")
    p.add_argument("--random", choices=list(VQ_CONFIGS), help="build this config with random weights and export it")
    p.add_argument("--out", help="with --random: folder for the graphs, manifest and <name>.golden/")
    p.add_argument("--name", help="with --random: tokenizer name (default vq16-random / vq8-random)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"], help="with --random")
    p.add_argument("--image-size", type=int, default=384, help="with --random: the manifest's imageSize")
    p.add_argument("--decode", default="2x4x6", help="code grids to decode, NxHxW (default 2x4x6)")
    p.add_argument("--encode", help="pictures to encode, NxHxW in pixels (default: the decode grid x downsample)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if bool(args.tokenizer) == bool(args.random):
            raise VqError("pass either --tokenizer MANIFEST or --random VQ-16 --out DIR")
        t0 = time.time()
        if args.random:
            if not args.out:
                raise VqError("--random needs --out DIR")
            from .export import export_tokenizer, tokenizer_manifest_name

            name = args.name or f"{args.random.lower().replace('-', '')}-random"
            model = random_vq(VQ_CONFIGS[args.random](), args.seed)
            export_tokenizer(model, args.out, name, args.image_size, dtype=args.dtype,
                             provenance={"randomWeights": True, "config": args.random, "seed": args.seed})
            manifest_path = os.path.join(args.out, tokenizer_manifest_name(name))
        else:
            manifest_path = args.tokenizer
        index = write_vq_golden(manifest_path, decode_shape=parse_shape(args.decode),
                                encode_shape=parse_shape(args.encode) if args.encode else None, seed=args.seed)
    except (VqError, ValueError, FileNotFoundError) as e:
        print(f"vq.golden: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"tokenizer": manifest_path, "decode": index["decode"]["shape"],
                      "encode": index["encode"]["shape"], "minMargin": index["encode"]["minMargin"],
                      "seconds": round(time.time() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
