"""Export the FID Inception-v3 as one ONNX graph + feature manifest for ``deno task fid``.

    /usr/bin/python3 -m python.inception --weights pt_inception-2015-12-05-6726825d.pth --out models/inception/
    /usr/bin/python3 -m python.inception --random-weights --out /tmp/inception   # same graph, random weights

Writes ``<out>/<name>.onnx`` (default name ``inception-fid``, ~95 MB) and ``<out>/<name>.json``.
``--weights`` is pytorch-fid's port of TF's FID weights (download it from
https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth);
it is loaded strictly: a missing, unexpected or misshaped key is an error that names it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

from ..manifest import sha256_file
from .export import RESIZE_KERNELS, export_features, parse_size
from .model import OFFICIAL_WEIGHTS, InceptionError, load_fid_inception, random_fid_inception
from .preprocess import PREPROCESS_MODES


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m python.inception", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", help=f"pytorch-fid's {OFFICIAL_WEIGHTS['name']}")
    src.add_argument("--random-weights", action="store_true", help="seeded random weights (tests, timing)")
    p.add_argument("--out", required=True, help="folder for <name>.onnx and <name>.json (e.g. models/inception/)")
    p.add_argument("--name", default="inception-fid", help="graph and manifest name (default inception-fid)")
    p.add_argument("--preprocess", default="adm", choices=PREPROCESS_MODES,
                   help="resize + scaling inside the graph: adm (ADM's evaluator / TF graph, default) or pytorch-fid")
    p.add_argument("--input-size", default="256", help="size (N or HxW) pictures enter the graph at without a "
                   "resize by parlab (default 256: ImageNet-256 and ADM's reference batches); the graph resizes to "
                   "299 itself, and takes any size")
    p.add_argument("--resize", default="cubic", choices=RESIZE_KERNELS,
                   help="sharp kernel parlab resizes other sizes to --input-size with (default cubic)")
    p.add_argument("--seed", type=int, default=0, help="seed of --random-weights")
    p.add_argument("--width", type=float, default=1.0,
                   help="channel multiplier, with --random-weights only (test fixtures; 1 = real network)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        size = parse_size(args.input_size)
        t0 = time.time()
        if args.weights:
            if args.width != 1.0:
                raise InceptionError("--width: only with --random-weights (the checkpoint is the real network). "
                                     "Fix: drop --width")
            net = load_fid_inception(args.weights)
            prov = {"weights": os.path.basename(args.weights), "weightsSha256": sha256_file(args.weights),
                    "official": OFFICIAL_WEIGHTS}
        else:
            net = random_fid_inception(width=args.width, seed=args.seed)
            prov = {"weights": f"random (seed {args.seed}); NOT for scores"}
        prov["loadSeconds"] = round(time.time() - t0, 2)
        man = export_features(net, args.out, name=args.name, mode=args.preprocess, input_size=size,
                              resize=args.resize, provenance=prov)
    except (InceptionError, ValueError) as e:
        print(f"inception: {e}", file=sys.stderr)
        return 1
    print(f"wrote {os.path.join(args.out, man['onnx'])} ({man['bytes'] / 1e6:.1f} MB, "
          f"{man['provenance']['parameters'] / 1e6:.2f}M parameters, preprocess {args.preprocess}, "
          f"{man['provenance']['exportSeconds']} s) and {os.path.join(args.out, args.name + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
