"""Build the committed VQ fixtures: a small LlamaGen-architecture tokenizer, its golden files, and a
random-weight PAR-shaped GPT that decodes through it, converted by the same one command as the
official checkpoints.

    /usr/bin/python3 -m python.vq.fixture [--keep DIR]

Writes (about 2.5 MB in all):
  fixtures/tokenizers/vq-tiny16.{encode,decode}.onnx, vq-tiny16.tokenizer.json
      LlamaGen's VQ architecture at ch 32, ch_mult (1,1,1,1,1) (downsample 16: 24x24 codes are
      384x384 pixels, like PAR), z 32, codebook 1024 x 8, random weights (seed 0), fp16 storage
  fixtures/tokenizers/vq-tiny16.golden/   python/vq/golden.py's files (decode 2x4x6 codes, encode
      2 pictures of 64x96)
  fixtures/models/random-par4-vq.{onnx,json}
      PAR-4x-shaped GPT (2 layers, width 64, 4 heads, SwiGLU 256, 3 transition tokens, vocab 1024,
      1000 classes with the ImageNet-1k names), random weights N(0, 0.1) (norm scales 1 + N(0, 0.1);
      seed 0), fp16 storage;
      its manifest's tokenizer is {"kind": "vq", "manifest": "../tokenizers/vq-tiny16.tokenizer.json"}

The two source checkpoints are written in the official layouts ({"model": state dict}) to a
temporary folder (``--keep DIR`` keeps them) and converted with
``python -m python.convert --checkpoint random-par4-vq.pt --vq-checkpoint vq-tiny16.pt ...``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Dict

import torch

from ..convert import main as convert_main
from ..model import swiglu_hidden
from .golden import write_vq_golden
from .model import VQConfig, random_vq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER_NAME = "vq-tiny16"
MODEL_NAME = "random-par4-vq"


def tiny_vq_config() -> VQConfig:
    return VQConfig(codebook_size=1024, codebook_embed_dim=8, codebook_show_usage=False,
                    encoder_ch_mult=[1, 1, 1, 1, 1], decoder_ch_mult=[1, 1, 1, 1, 1], z_channels=32, ch=32)


def par_state_dict(vocab: int, classes: int, dim: int, layers: int, heads: int, spe: int, seed: int = 0,
                   std: float = 0.1) -> Dict[str, torch.Tensor]:
    """A random state dict in PAR's c2i layout (key names and shapes of the official checkpoints)."""
    hidden = swiglu_hidden(dim)
    shapes = {"tok_embeddings.weight": (vocab, dim), "cls_embedding.embedding_table.weight": (classes + 1, dim),
              "spe_tok_embeddings.special_embeddings.weight": (spe, dim)}
    for i in range(layers):
        p = f"layers.{i}."
        shapes.update({p + "attention.wqkv.weight": (3 * dim, dim), p + "attention.wo.weight": (dim, dim),
                       p + "feed_forward.w1.weight": (hidden, dim), p + "feed_forward.w3.weight": (hidden, dim),
                       p + "feed_forward.w2.weight": (dim, hidden), p + "attention_norm.weight": (dim,),
                       p + "ffn_norm.weight": (dim,)})
    shapes.update({"norm.weight": (dim,), "output.weight": (vocab, dim)})
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, s in shapes.items():
        # RMSNorm scales 1 + N(0, std): distinct values (torch's export merges equal initializers,
        # which python/onnx_weights.py cannot read back)
        out[k] = torch.randn(*s, generator=g) * std + (1.0 if k.endswith("norm.weight") else 0.0)
    return out


def build(models_dir: str, tokenizers_dir: str, keep: str = "") -> Dict:
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        src = keep or tmp
        os.makedirs(src, exist_ok=True)
        vq_ckpt = os.path.join(src, f"{TOKENIZER_NAME}.pt")
        gpt_ckpt = os.path.join(src, f"{MODEL_NAME}.pt")
        torch.save({"model": random_vq(tiny_vq_config(), seed=0).state_dict()}, vq_ckpt)
        torch.save({"model": par_state_dict(vocab=1024, classes=1000, dim=64, layers=2, heads=4, spe=3)}, gpt_ckpt)
        rc = convert_main(["--checkpoint", gpt_ckpt, "--vq-checkpoint", vq_ckpt, "--size", "custom", "--heads", "4",
                           "--grid", "24", "--out", models_dir, "--tokenizer-out", tokenizers_dir, "--dtype", "float16",
                           "--vq-dtype", "float16"])
        if rc != 0:
            raise SystemExit(rc)
    manifest = os.path.join(tokenizers_dir, f"{TOKENIZER_NAME}.tokenizer.json")
    index = write_vq_golden(manifest, decode_shape=(2, 4, 6), seed=0)
    sizes = {}
    for folder in (tokenizers_dir, os.path.join(tokenizers_dir, f"{TOKENIZER_NAME}.golden"), models_dir):
        for f in sorted(os.listdir(folder)):
            if f.startswith((TOKENIZER_NAME, MODEL_NAME)) or folder.endswith(".golden"):
                path = os.path.join(folder, f)
                if os.path.isfile(path):
                    sizes[os.path.relpath(path, ROOT)] = os.path.getsize(path)
    return {"seconds": round(time.time() - t0, 1), "bytes": sizes, "golden": index["encode"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.vq.fixture", description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=os.path.join(ROOT, "fixtures", "models"))
    p.add_argument("--tokenizers", default=os.path.join(ROOT, "fixtures", "tokenizers"))
    p.add_argument("--keep", default="", help="keep the two source checkpoints in this folder")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print(json.dumps(build(args.models, args.tokenizers, args.keep), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
