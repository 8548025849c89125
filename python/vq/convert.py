"""Convert a LlamaGen VQ checkpoint (``vq_ds16_c2i.pt``, ``vq_ds8_c2i.pt``) into two ONNX graphs +
a tokenizer manifest.

    /usr/bin/python3 -m python.vq --checkpoint vq_ds16_c2i.pt --out models/ [--image-size 384]

``python -m python.convert --vq-checkpoint`` calls the same code beside the GPT's conversion.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Dict, Optional

from ..manifest import sha256_file
from .export import export_tokenizer, tokenizer_manifest_name
from .model import VQ_CONFIGS, VQModel, VqError, load_vq_checkpoint, round_vq_to_fp16

# Official tokenizer checkpoints (LlamaGen's release; PAR uses vq_ds16_c2i).
OFFICIAL_VQ = {
    "vq_ds16_c2i": {"config": "VQ-16", "parameters": "72M", "rFID": "2.19 (256px)",
                    "url": "https://huggingface.co/FoundationVision/LlamaGen/resolve/main/vq_ds16_c2i.pt"},
    "vq_ds8_c2i": {"config": "VQ-8", "parameters": "70M", "rFID": "0.59 (256px)",
                   "url": "https://huggingface.co/FoundationVision/LlamaGen/resolve/main/vq_ds8_c2i.pt"},
}


def checkpoint_stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def load_vq(path: str, expect: Optional[str] = None):
    """(model, info, seconds) with the official config checked when the file has an official name."""
    t0 = time.time()
    stem = checkpoint_stem(path)
    if expect is None and stem in OFFICIAL_VQ:
        expect = OFFICIAL_VQ[stem]["config"]
    model, info = load_vq_checkpoint(path, expect)
    info["expect"] = expect
    return model, info, time.time() - t0


def export_vq(
    model: VQModel,
    checkpoint: str,
    out_dir: str,
    image_size: int,
    name: Optional[str] = None,
    dtype: str = "float32",
    external_data: bool = False,
    load_seconds: float = 0.0,
) -> Dict:
    """Export a loaded VQ model; returns the tokenizer manifest (written to out_dir)."""
    name = name or checkpoint_stem(checkpoint)
    if image_size % model.config.downsample:
        raise VqError(f"--image-size {image_size} is not a multiple of the tokenizer's downsample factor"
                      f" {model.config.downsample}")
    if dtype == "float16":
        round_vq_to_fp16(model)
    stem = checkpoint_stem(checkpoint)
    prov = {"convertedFrom": os.path.basename(checkpoint), "checkpointSha256": sha256_file(checkpoint),
            "loadSeconds": round(load_seconds, 2)}
    if stem in OFFICIAL_VQ:
        prov["official"] = dict(OFFICIAL_VQ[stem], name=stem)
    return export_tokenizer(model, out_dir, name, image_size, dtype=dtype, external_data=external_data,
                            provenance=prov)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m python.vq", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="LlamaGen VQ .pt file (state dict under 'model')")
    p.add_argument("--out", required=True, help="folder for <name>.encode.onnx, <name>.decode.onnx, <name>.tokenizer.json")
    p.add_argument("--name", help="tokenizer name (default: the checkpoint's file name)")
    p.add_argument("--image-size", type=int, default=384, help="picture size the tokenizer is used at (default 384:"
                   " PAR's 24x24 tokens with downsample 16); the graphs accept any multiple of the downsample factor")
    p.add_argument("--vq-model", choices=list(VQ_CONFIGS), help="check the geometry against this config")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"], help="weight storage")
    p.add_argument("--external-data", action="store_true", help="weights in <graph>.onnx.data files beside the graphs")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model, info, secs = load_vq(args.checkpoint, args.vq_model)
        man = export_vq(model, args.checkpoint, args.out, args.image_size, args.name, args.dtype, args.external_data,
                        secs)
    except VqError as e:
        print(f"vq: {e}", file=sys.stderr)
        return 1
    cfg = man["config"]
    print(f"wrote {os.path.join(args.out, tokenizer_manifest_name(man['name']))} (codebook {man['codebookSize']}x"
          f"{man['embedDim']}, ch {cfg['ch']}, ch_mult {cfg['encoder_ch_mult']}, downsample {man['downsample']},"
          f" {man['provenance']['parameters']['total'] / 1e6:.1f}M parameters, {man['provenance']['exportSeconds']} s)")
    return 0
