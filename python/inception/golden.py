"""A random-weight FID Inception graph plus golden outputs, for the PyTorch <-> onnxruntime parity test.

    /usr/bin/python3 -m python.inception.golden --out /tmp/inc [--width 0.0625] [--input-size 48x64]
        [--pictures 3] [--preprocess adm] [--seed 0]

Writes ``<out>/<name>.onnx`` + ``<name>.json`` (the exporter's own output) and ``<out>/golden/``:
``pictures.npy`` uint8 [N, H, W, 3] (NHWC RGB at the manifest's input size, so parlab feeds them
unresized), ``pool.npy``, ``logits.npy``, ``spatial.npy`` float32 (PyTorch's outputs of the same
module the graph was exported from) and ``index.json`` (format ``parlab-inception-golden/1``).
``--width`` below 1 shrinks every channel count (same depth, wiring, resize and 17x17x7 spatial
output): a fixture of a few MB that exports and runs in seconds; 1 is the real network (95 MB).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from .export import FidFeatureGraph, export_features, parse_size
from .model import InceptionError, random_fid_inception
from .preprocess import PREPROCESS_MODES

GOLDEN_FORMAT = "parlab-inception-golden/1"


def golden_pictures(n: int, height: int, width: int, seed: int) -> np.ndarray:
    """Seeded uint8 pictures [n, H, W, 3]: smooth colour gradients plus noise, one flat grey, one with
    saturated 0/255 pixels (the ends of the range)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    out = np.zeros((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        if i == 1:
            out[i] = 128
            continue
        base = np.stack([yy, xx, 1 - 0.5 * (xx + yy)], -1) * 255
        pic = base * rng.uniform(0.3, 1.0) + rng.normal(0, 40, base.shape)
        if i == 2:
            pic[::3, ::5] = 0
            pic[1::4, ::3] = 255
        out[i] = np.clip(np.rint(pic), 0, 255).astype(np.uint8)
    return out


def write_golden(out_dir: str, width: float = 0.0625, input_size=(48, 64), pictures: int = 3,
                 mode: str = "adm", seed: int = 0, name: str = "inception-tiny") -> dict:
    t0 = time.time()
    net = random_fid_inception(width=width, seed=seed)
    manifest = export_features(net, out_dir, name=name, mode=mode, input_size=input_size, resize="cubic",
                               provenance={"weights": f"random (seed {seed})"})
    pics = golden_pictures(pictures, input_size[0], input_size[1], seed)
    graph = FidFeatureGraph(net, mode).eval()
    with torch.no_grad():
        x = torch.from_numpy(pics).permute(0, 3, 1, 2).float().contiguous()
        pool, logits, spatial = graph(x)
    gdir = os.path.join(out_dir, "golden")
    os.makedirs(gdir, exist_ok=True)
    np.save(os.path.join(gdir, "pictures.npy"), pics)
    arrays = {"pool": pool, "logits": logits, "spatial": spatial}
    for k, v in arrays.items():
        np.save(os.path.join(gdir, f"{k}.npy"), v.numpy().astype(np.float32))
    index = {
        "format": GOLDEN_FORMAT,
        "manifest": f"../{name}.json",
        "preprocess": mode,
        "width": width,
        "seed": seed,
        "pictures": {"file": "pictures.npy", "shape": list(pics.shape)},
        "outputs": {k: {"file": f"{k}.npy", "shape": list(v.shape), "maxAbs": float(v.abs().max())}
                    for k, v in arrays.items()},
        "seconds": round(time.time() - t0, 2),
    }
    with open(os.path.join(gdir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    return {"manifest": manifest, "index": index}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.inception.golden", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="folder for the graph, its manifest and golden/")
    p.add_argument("--width", type=float, default=0.0625, help="channel multiplier (default 1/16; 1 = real size)")
    p.add_argument("--input-size", default="48x64", help="picture size HxW (default 48x64: non-square on purpose)")
    p.add_argument("--pictures", type=int, default=3, help="number of golden pictures (default 3)")
    p.add_argument("--preprocess", default="adm", choices=PREPROCESS_MODES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="inception-tiny")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    try:
        size = parse_size(args.input_size)
        r = write_golden(args.out, args.width, size, args.pictures, args.preprocess, args.seed, args.name)
    except (InceptionError, ValueError) as e:
        print(f"inception.golden: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}/{args.name}.onnx ({r['manifest']['bytes'] / 1e6:.2f} MB) and golden/ "
          f"({args.pictures} pictures, {r['index']['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
