"""Convert a LlamaGen (c2i) or PAR checkpoint into an ONNX step graph + parlab manifest.

Usage (from the repository root)::

    /usr/bin/python3 -m python.convert --checkpoint PAR-XL-4x.pt --size XL --grid 24 --out models/
    /usr/bin/python3 -m python.convert --checkpoint c2i_L_256.pt --size L --grid 16 --out models/
    /usr/bin/python3 -m python.convert --checkpoint mine.pt --size custom --heads 8 --grid 24 --out m/

The state dict may sit under ``model``, ``module`` or ``state_dict``, or be the whole file;
``module.`` / ``_orig_mod.`` prefixes (DDP, torch.compile) are stripped and KV-cache buffers
dropped. Vocabulary, width, layers, classes (table rows - 1), SwiGLU width, KV heads and transition
tokens are read from the shapes; heads come from the size name (or ``--heads``). The schedule
defaults to ``par<n>`` when the checkpoint has n-1 transition tokens (PAR) and ``raster`` when it
has none (LlamaGen). Keys that are missing, unexpected or misshaped are named in the error.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Dict, Optional, Tuple

import torch

from .export import export_with_manifest
from .manifest import DEFAULT_SAMPLING
from .model import GPT, GPTConfig, load_state_dict_strict
from .schedule import make_grid, schedule_by_name
from .sizes import size_spec

IGNORED = re.compile(r"(^|\.)(kv_cache\.[kv]_cache|freqs_cis|causal_mask|group_mask)$")


class ConvertError(Exception):
    """A user error: printed without a stack trace."""


def extract_state_dict(obj) -> Dict[str, torch.Tensor]:
    """Find the state dict inside a loaded checkpoint object."""
    if isinstance(obj, dict):
        for key in ("model", "module", "state_dict", "ema"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(torch.is_tensor(v) for v in inner.values()):
                return dict(inner)
        if obj and all(torch.is_tensor(v) for v in obj.values()):
            return dict(obj)
        raise ConvertError(
            f"no state dict found: top-level keys are {sorted(map(str, obj.keys()))[:12]};"
            " expected 'model', 'module', 'state_dict' or a bare state dict"
        )
    raise ConvertError(f"checkpoint holds a {type(obj).__name__}, not a dict of tensors")


def clean_keys(state: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], list]:
    out, dropped = {}, []
    for k, v in state.items():
        for prefix in ("module.", "_orig_mod."):
            while k.startswith(prefix):
                k = k[len(prefix):]
        if IGNORED.search(k):
            dropped.append(k)
            continue
        out[k] = v
    return out, dropped


def _shape(state, key) -> Tuple[int, ...]:
    if key not in state:
        raise ConvertError(f"missing key {key!r}: is this a class-conditional LlamaGen/PAR GPT checkpoint?")
    return tuple(state[key].shape)


def infer_config(
    state: Dict[str, torch.Tensor], size: str, heads: Optional[int], grid: Tuple[int, int]
) -> GPTConfig:
    """Read the geometry from the state dict's shapes and check it against the size name."""
    vocab, dim = _shape(state, "tok_embeddings.weight")
    cls_rows = _shape(state, "cls_embedding.embedding_table.weight")[0]
    layer_ids = {int(m.group(1)) for k in state for m in [re.match(r"layers\.(\d+)\.", k)] if m}
    n_layer = max(layer_ids) + 1 if layer_ids else 0
    if size.lower() == "custom":
        if not heads:
            raise ConvertError("--size custom needs --heads (the head count is not visible in the shapes)")
        n_head = heads
    else:
        try:
            spec = size_spec(size)
        except ValueError as e:
            raise ConvertError(str(e)) from None
        if spec["dim"] != dim or spec["n_layer"] != n_layer:
            raise ConvertError(
                f"checkpoint has width {dim} and {n_layer} layers but GPT-{size} has width {spec['dim']} and"
                f" {spec['n_layer']} layers: pass the right --size, or --size custom --heads N"
            )
        n_head = heads or spec["n_head"]
    if dim % n_head:
        raise ConvertError(f"width {dim} is not divisible by {n_head} heads: fix --heads")
    head_dim = dim // n_head
    qkv_rows = _shape(state, "layers.0.attention.wqkv.weight")[0]
    kv2 = qkv_rows // head_dim - n_head
    if qkv_rows % head_dim or kv2 <= 0 or kv2 % 2:
        raise ConvertError(f"wqkv has {qkv_rows} rows, which does not fit {n_head} heads of size {head_dim}")
    hidden = _shape(state, "layers.0.feed_forward.w1.weight")[0]
    spe = state.get("spe_tok_embeddings.special_embeddings.weight")
    return GPTConfig(
        vocab_size=vocab,
        num_classes=cls_rows - 1,
        dim=dim,
        n_layer=n_layer,
        n_head=n_head,
        n_kv_head=kv2 // 2,
        transition_tokens=0 if spe is None else int(spe.shape[0]),
        height=grid[0],
        width=grid[1],
        ffn_hidden=hidden,
    )


def default_schedule_name(cfg: GPTConfig) -> str:
    if cfg.transition_tokens == 0:
        return "raster"
    return f"par{cfg.transition_tokens + 1}"


def parse_grid(text: str) -> Tuple[int, int]:
    m = re.fullmatch(r"(\d+)(?:x(\d+))?", text.strip())
    if not m:
        raise ConvertError(f"--grid {text!r}: write the token grid as 24 or 24x24 (image size / 16)")
    h = int(m.group(1))
    return h, int(m.group(2) or h)


def convert(args) -> Dict:
    t0 = time.time()
    if not os.path.isfile(args.checkpoint):
        raise ConvertError(f"--checkpoint {args.checkpoint!r} does not exist")
    try:
        obj = torch.load(args.checkpoint, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a user error here
        raise ConvertError(f"cannot read {args.checkpoint!r} as a torch checkpoint: {e}") from None
    state, dropped = clean_keys(extract_state_dict(obj))
    grid = parse_grid(args.grid)
    cfg = infer_config(state, args.size, args.heads, grid)
    if args.num_classes is not None and args.num_classes != cfg.num_classes:
        raise ConvertError(f"--num-classes {args.num_classes} but the class table has {cfg.num_classes} + 1 rows")
    model = GPT(cfg)
    try:
        load_state_dict_strict(model, {k: v.float() for k, v in state.items()})
    except ValueError as e:
        raise ConvertError(str(e)) from None
    name_ = args.schedule or default_schedule_name(cfg)
    try:
        schedule = schedule_by_name(make_grid(*grid), name_)
    except ValueError as e:
        raise ConvertError(f"--schedule: {e}") from None
    if schedule["transitionSlots"] > cfg.transition_tokens:
        raise ConvertError(
            f"schedule {name_} needs {schedule['transitionSlots']} transition tokens but the checkpoint has"
            f" {cfg.transition_tokens}: pass --schedule {default_schedule_name(cfg)}"
        )
    class_names = None
    if args.class_names:
        with open(args.class_names) as f:
            class_names = json.load(f)
    sampling = dict(DEFAULT_SAMPLING)
    sampling.update({"cfgScale": args.cfg_scale, "temperature": args.temperature, "topK": args.top_k, "topP": args.top_p})
    name = args.name or os.path.splitext(os.path.basename(args.checkpoint))[0]
    params = sum(p.numel() for p in model.parameters())
    manifest = export_with_manifest(
        model, args.out, name, schedule, dtype=args.dtype, class_names=class_names, sampling=sampling,
        codebook=args.codebook,
        provenance={"convertedFrom": os.path.basename(args.checkpoint), "size": args.size, "parameters": params,
                    "droppedKeys": dropped, "config": cfg.to_dict(), "convertSeconds": round(time.time() - t0, 2)},
    )
    return manifest


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m python.convert", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="LlamaGen/PAR .pt file")
    p.add_argument("--size", required=True, help="B, L, XL, XXL, XXXL, 1B, 3B, 7B, or custom (with --heads)")
    p.add_argument("--grid", required=True, help="token grid, e.g. 24 (384px / 16) or 16 (256px / 16) or 24x24")
    p.add_argument("--out", required=True, help="output folder for <name>.onnx and <name>.json")
    p.add_argument("--heads", type=int, help="attention heads (default: from --size)")
    p.add_argument("--name", help="model name (default: the checkpoint's file name)")
    p.add_argument("--schedule", help="trained schedule: raster, par4, par16, ... (default: from the checkpoint)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"], help="weight storage in the .onnx")
    p.add_argument("--num-classes", type=int, help="check the class count (table rows - 1)")
    p.add_argument("--class-names", help="JSON file with a list of class names")
    p.add_argument("--codebook", help="tokenizer codebook path for the manifest (relative to --out)")
    p.add_argument("--cfg-scale", type=float, default=1.5)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=float, default=1.0)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        manifest = convert(args)
    except ConvertError as e:
        print(f"convert: {e}", file=sys.stderr)
        return 1
    print(
        f"wrote {os.path.join(args.out, manifest['onnx'])} ({manifest['layers']} layers, width {manifest['dim']},"
        f" {manifest['heads']} heads / {manifest['kvHeads']} kv, schedule {manifest['schedule']['name']},"
        f" {manifest['provenance']['convertSeconds']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
