"""Convert a LlamaGen (c2i) or PAR checkpoint into an ONNX step graph + parlab manifest.

Usage (from the repository root)::

    /usr/bin/python3 -m python.convert --checkpoint PAR-XL-4x.pt --size XL --grid 24 --out models/
    /usr/bin/python3 -m python.convert --checkpoint c2i_L_256.pt --size L --grid 16 --out models/
    /usr/bin/python3 -m python.convert --checkpoint mine.pt --size custom --heads 8 --grid 24 --out m/
    # one command, GPT + LlamaGen's VQ tokenizer (size, grid, cfg scale from the official name):
    /usr/bin/python3 -m python.convert --checkpoint PAR-XL-4x.pt --vq-checkpoint vq_ds16_c2i.pt --out models/

The state dict may sit under ``model``, ``module`` or ``state_dict``, or be the whole file;
``module.`` / ``_orig_mod.`` prefixes (DDP, torch.compile) are stripped and KV-cache buffers
dropped. Vocabulary, width, layers, classes (table rows - 1), SwiGLU width, KV heads and transition
tokens are read from the shapes; heads come from the size name (or ``--heads``). The schedule
defaults to ``par<n>`` when the checkpoint has n-1 transition tokens (PAR) and ``raster`` when it
has none (LlamaGen). Keys that are missing, unexpected or misshaped are named in the error.
An empty transition table (``spe_tok_embeddings.special_embeddings.weight`` of shape (0, dim), what
PAR's code saves for a one-token-a-step model) means no transition tokens and is dropped.

With ``--vq-checkpoint`` the tokenizer is converted too (python/vq: ``<vq>.encode.onnx``,
``<vq>.decode.onnx``, ``<vq>.tokenizer.json`` in ``--tokenizer-out``, default ``--out``) and the
model manifest's ``tokenizer`` is ``{"kind": "vq", "manifest": <path relative to the model
manifest>}``; ``--tokenizer`` references an already converted tokenizer manifest instead. An
official checkpoint name (``OFFICIAL``: PAR-XL-4x, ..., c2i_L_384, ...) supplies ``--size``,
``--grid`` and the official sampling defaults; 1000-class checkpoints get the ImageNet-1k class
names.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Dict, List, Optional, Tuple

import torch

from .export import export_with_manifest
from .manifest import DEFAULT_SAMPLING, write_json_atomic
from .model import GPT, GPTConfig, load_state_dict_strict
from .schedule import make_grid, schedule_by_name
from .sizes import size_spec
from .vq.model import VqError, read_checkpoint

SPE_KEY = "spe_tok_embeddings.special_embeddings.weight"
IMAGENET_CLASSES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vq", "imagenet1k_classes.json")

# Official class-conditional checkpoints: geometry, trained schedule and the sampling settings of
# the official scripts. PAR: README + scripts/autoregressive/sample_c2i.sh + sample_c2i_ddp.py
# (cfg scale per model, top-k 0, top-p 1, temperature 1, cfg-interval -1 = none; samples at 384 px,
# resized bicubic to 256 for FID). LlamaGen: README (geometry and FID only: its demo script's
# defaults cfg 4.0 / top-k 2000 are for pictures, not its FID runs, so parlab's defaults stay).
_PAR = "https://huggingface.co/Epiphqny/PAR/resolve/main/"
_LG = "https://huggingface.co/FoundationVision/LlamaGen/resolve/main/"
OFFICIAL: Dict[str, Dict] = {
    "PAR-XL-4x": {"size": "XL", "grid": 24, "schedule": "par4", "cfgScale": 1.5, "fid": 2.61, "url": _PAR + "PAR-XL-4x.pt"},
    "PAR-XXL-4x": {"size": "XXL", "grid": 24, "schedule": "par4", "cfgScale": 1.435, "fid": 2.35,
                   "url": _PAR + "PAR-XXL-4x.pt"},
    "PAR-3B-4x": {"size": "3B", "grid": 24, "schedule": "par4", "cfgScale": 1.345, "fid": 2.29, "url": _PAR + "PAR-3B-4x.pt"},
    "PAR-3B-16x": {"size": "3B", "grid": 24, "schedule": "par16", "cfgScale": 1.5, "fid": 2.88,
                   "url": _PAR + "PAR-3B-16x.pt"},
    "c2i_B_256": {"size": "B", "grid": 16, "schedule": "raster", "fid": 5.46, "url": _LG + "c2i_B_256.pt"},
    "c2i_B_384": {"size": "B", "grid": 24, "schedule": "raster", "fid": 6.09, "url": _LG + "c2i_B_384.pt"},
    "c2i_L_256": {"size": "L", "grid": 16, "schedule": "raster", "fid": 3.80, "url": _LG + "c2i_L_256.pt"},
    "c2i_L_384": {"size": "L", "grid": 24, "schedule": "raster", "fid": 3.07, "url": _LG + "c2i_L_384.pt"},
    "c2i_XL_384": {"size": "XL", "grid": 24, "schedule": "raster", "fid": 2.62, "url": _LG + "c2i_XL_384.pt"},
    "c2i_XXL_384": {"size": "XXL", "grid": 24, "schedule": "raster", "fid": 2.34, "url": _LG + "c2i_XXL_384.pt"},
    "c2i_3B_384": {"size": "3B", "grid": 24, "schedule": "raster", "fid": 2.18, "url": _LG + "c2i_3B_384.pt"},
}
OFFICIAL_SAMPLING = {"temperature": 1.0, "topK": 0, "topP": 1.0, "cfgInterval": None}

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
        if "quantize.embedding.weight" in state or any(k.startswith("encoder.conv_in") for k in state):
            raise ConvertError(
                "this is a VQ tokenizer checkpoint (it has encoder./quantize. keys), not a GPT: pass it as"
                " --vq-checkpoint and the GPT (e.g. PAR-XL-4x.pt) as --checkpoint"
            )
        raise ConvertError(f"missing key {key!r}: is this a class-conditional LlamaGen/PAR GPT checkpoint?")
    return tuple(state[key].shape)


def drop_empty_transition_table(state: Dict[str, torch.Tensor]) -> Optional[str]:
    """PAR's code always builds ``spe_tok_embeddings`` (shape (spe_token_num, dim)); a model trained
    with one token a step saves it with 0 rows. That is "no transition tokens": drop the key."""
    spe = state.get(SPE_KEY)
    if spe is not None and spe.dim() == 2 and spe.shape[0] == 0:
        del state[SPE_KEY]
        return f"{SPE_KEY} (0 rows: no transition tokens)"
    return None


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


def official_entry(checkpoint: str) -> Tuple[Optional[str], Optional[Dict]]:
    """(name, entry) of ``OFFICIAL`` for a checkpoint file name (case-insensitive), else (None, None)."""
    stem = os.path.splitext(os.path.basename(checkpoint))[0].lower()
    for name, entry in OFFICIAL.items():
        if name.lower() == stem:
            return name, entry
    return None, None


def imagenet_class_names() -> List[str]:
    with open(IMAGENET_CLASSES) as f:
        return json.load(f)["names"]


def resolve_sampling(args, official: Optional[Dict]) -> Dict:
    """The manifest's sampling: flags, else the official script's values, else parlab's defaults."""
    sampling = dict(DEFAULT_SAMPLING)
    if official and "cfgScale" in official:
        sampling.update(OFFICIAL_SAMPLING, cfgScale=official["cfgScale"])
    for flag, key in (("cfg_scale", "cfgScale"), ("temperature", "temperature"), ("top_k", "topK"), ("top_p", "topP")):
        if getattr(args, flag) is not None:
            sampling[key] = getattr(args, flag)
    if sampling["cfgScale"] < 1:
        raise ConvertError(
            f"--cfg-scale {sampling['cfgScale']} is below 1: the official sampler guides only above 1 and parlab"
            " refuses scales below 1. Fix: use 1 for no guidance or a scale above 1"
        )
    if args.cfg_interval is not None:
        # the official scripts' -1 (and anything at or below it) means "guidance at every step"
        if args.cfg_interval <= -1:
            sampling["cfgInterval"] = None
        elif args.cfg_interval_rule == "steps":
            if args.cfg_interval != int(args.cfg_interval) or args.cfg_interval < 0:
                raise ConvertError("--cfg-interval counts steps under --cfg-interval-rule steps: give an integer >= 0")
            sampling["cfgInterval"] = int(args.cfg_interval)
        elif args.cfg_interval < 0:
            raise ConvertError(
                f"--cfg-interval {args.cfg_interval}: between -1 and 0 the official rule guides only the prefill,"
                " which a manifest cannot express; use 0 (guides the first token of each phase) or -1 (always)"
            )
        else:  # the official test is "tokens so far > interval" on integers: floor(x) is the same rule
            sampling["cfgInterval"] = int(args.cfg_interval // 1)
    if args.cfg_interval_rule != "steps":
        sampling["cfgIntervalRule"] = args.cfg_interval_rule
    return sampling


def _load_gpt_state(path: str) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    if not os.path.isfile(path):
        raise ConvertError(f"--checkpoint {path!r} does not exist")
    try:
        obj, _ = read_checkpoint(path)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a user error here
        raise ConvertError(
            f"cannot read {path!r} as a torch checkpoint ({type(e).__name__}: {e}). The file is truncated or not a"
            " .pt file: download it again"
        ) from None
    return clean_keys(extract_state_dict(obj))


def convert(args) -> Dict:
    t0 = time.time()
    official_name, official = official_entry(args.checkpoint)
    size = args.size or (official or {}).get("size")
    grid_text = args.grid or (str(official["grid"]) if official else None)
    if not size:
        raise ConvertError("--size is needed (B, L, XL, XXL, XXXL, 1B, 3B, 7B, or custom with --heads): the checkpoint's"
                           " name is not one of the official ones (" + ", ".join(OFFICIAL) + ")")
    if not grid_text:
        raise ConvertError("--grid is needed (token grid: 24 for 384 px, 16 for 256 px with a downsample-16 tokenizer)")
    if args.codebook and (args.vq_checkpoint or args.tokenizer):
        raise ConvertError("--codebook (patch k-means) and --vq-checkpoint/--tokenizer exclude each other")
    if args.vq_checkpoint and args.tokenizer:
        raise ConvertError("pass either --vq-checkpoint (convert the tokenizer) or --tokenizer (an already converted"
                           " <name>.tokenizer.json), not both")
    state, dropped = _load_gpt_state(args.checkpoint)
    empty_spe = drop_empty_transition_table(state)
    if empty_spe:
        dropped.append(empty_spe)
    grid = parse_grid(grid_text)
    cfg = infer_config(state, size, args.heads, grid)
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
    class_names, class_source = None, None
    if args.class_names:
        try:
            with open(args.class_names) as f:
                class_names = json.load(f)
        except (OSError, ValueError) as e:
            raise ConvertError(f"--class-names {args.class_names!r}: {e}") from None
        if isinstance(class_names, dict) and "names" in class_names:
            class_names = class_names["names"]
        if not isinstance(class_names, list) or len(class_names) != cfg.num_classes:
            raise ConvertError(f"--class-names must be a JSON list of {cfg.num_classes} names (the checkpoint's class"
                               " count)")
        class_source = os.path.basename(args.class_names)
    elif cfg.num_classes == 1000:
        class_names, class_source = imagenet_class_names(), "ImageNet-1k (python/vq/imagenet1k_classes.json)"
    sampling = resolve_sampling(args, official)
    tokenizer_ref, vq_job = _prepare_tokenizer(args, cfg, grid)
    name = args.name or os.path.splitext(os.path.basename(args.checkpoint))[0]
    params = sum(p.numel() for p in model.parameters())
    prov = {"convertedFrom": os.path.basename(args.checkpoint), "size": size, "parameters": params,
            "droppedKeys": dropped, "config": cfg.to_dict()}
    if class_source:
        prov["classNames"] = class_source
    if official:
        # the official FID runs decode at grid x 16 px and resize bicubic to 256 px before evaluation
        prov["official"] = dict(official, name=official_name, imageSizeEval=256)
    if vq_job is not None:  # the tokenizer first: its manifest path goes into the model's
        tokenizer_ref = vq_job()
    prov["convertSeconds"] = round(time.time() - t0, 2)
    manifest = export_with_manifest(
        model, args.out, name, schedule, dtype=args.dtype, class_names=class_names, sampling=sampling,
        codebook=args.codebook, provenance=prov, external_data=args.external_data,
    )
    if tokenizer_ref is not None:
        manifest["tokenizer"] = tokenizer_ref
        write_json_atomic(os.path.join(args.out, f"{name}.json"), manifest)
    return manifest


def _check_tokenizer_fits(codebook_size: int, cfg: GPTConfig, what: str) -> None:
    if codebook_size != cfg.vocab_size:
        raise ConvertError(
            f"{what} has {codebook_size} codes but the GPT's vocabulary is {cfg.vocab_size}: a model decodes only"
            " through the tokenizer it was trained on. Fix: pass that tokenizer (vq_ds16_c2i.pt for every official"
            " LlamaGen/PAR c2i model)"
        )


def _prepare_tokenizer(args, cfg: GPTConfig, grid: Tuple[int, int]):
    """Check the tokenizer against the GPT before anything is written.

    Returns (reference, job): with --tokenizer the reference now; with --vq-checkpoint a job that
    exports the tokenizer and returns the reference (the checkpoint is loaded and checked here)."""
    model_dir = os.path.abspath(args.out)
    if args.tokenizer:
        try:
            with open(args.tokenizer) as f:
                tman = json.load(f)
        except (OSError, ValueError) as e:
            raise ConvertError(f"--tokenizer {args.tokenizer!r}: {e}") from None
        if tman.get("format") != "parlab-tokenizer/1":
            raise ConvertError(f"--tokenizer {args.tokenizer!r} is not a parlab-tokenizer/1 manifest (write one with"
                               " python -m python.vq)")
        _check_tokenizer_fits(int(tman["codebookSize"]), cfg, f"tokenizer {os.path.basename(args.tokenizer)}")
        return {"kind": tman["kind"], "manifest": os.path.relpath(os.path.abspath(args.tokenizer), model_dir)}, None
    if not args.vq_checkpoint:
        return None, None
    from .vq.convert import export_vq, load_vq
    from .vq.export import tokenizer_manifest_name

    vq, _info, secs = load_vq(args.vq_checkpoint, args.vq_model)
    _check_tokenizer_fits(vq.config.codebook_size, cfg, f"VQ checkpoint {os.path.basename(args.vq_checkpoint)}")
    if grid[0] != grid[1]:
        raise ConvertError(f"--grid {grid[0]}x{grid[1]}: the tokenizer manifest records one square image size")
    out = args.tokenizer_out or args.out
    image_size = grid[0] * vq.config.downsample

    def job() -> Dict:
        man = export_vq(vq, args.vq_checkpoint, out, image_size, args.vq_name, args.vq_dtype, args.vq_external_data,
                        secs)
        path = os.path.join(os.path.abspath(out), tokenizer_manifest_name(man["name"]))
        print(f"wrote {path} (codebook {man['codebookSize']}x{man['embedDim']}, downsample {man['downsample']},"
              f" image {image_size} px)")
        return {"kind": "vq", "manifest": os.path.relpath(path, model_dir)}

    return None, job


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m python.convert", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="LlamaGen/PAR .pt file")
    p.add_argument("--size", help="B, L, XL, XXL, XXXL, 1B, 3B, 7B, or custom (with --heads); default: from an"
                   " official checkpoint name")
    p.add_argument("--grid", help="token grid, e.g. 24 (384px / 16) or 16 (256px / 16) or 24x24; default: from an"
                   " official checkpoint name")
    p.add_argument("--out", required=True, help="output folder for <name>.onnx and <name>.json")
    p.add_argument("--heads", type=int, help="attention heads (default: from --size)")
    p.add_argument("--name", help="model name (default: the checkpoint's file name)")
    p.add_argument("--schedule", help="trained schedule: raster, par4, par16, ... (default: from the checkpoint)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"], help="weight storage in the .onnx")
    p.add_argument("--external-data", action="store_true",
                   help="weights in <name>.onnx.data beside the graph (automatic over 2 GB)")
    p.add_argument("--num-classes", type=int, help="check the class count (table rows - 1)")
    p.add_argument("--class-names", help="JSON file with a list of class names")
    p.add_argument("--codebook", help="tokenizer codebook path for the manifest (relative to --out)")
    p.add_argument("--vq-checkpoint", help="LlamaGen VQ .pt (vq_ds16_c2i.pt): convert the tokenizer too")
    p.add_argument("--vq-model", choices=["VQ-16", "VQ-8"], help="check the VQ geometry against this config")
    p.add_argument("--vq-name", help="tokenizer name (default: the VQ checkpoint's file name)")
    p.add_argument("--vq-dtype", default="float32", choices=["float32", "float16"], help="tokenizer weight storage")
    p.add_argument("--vq-external-data", action="store_true", help="tokenizer weights in .onnx.data files")
    p.add_argument("--tokenizer-out", help="folder for the tokenizer files (default: --out)")
    p.add_argument("--tokenizer", help="reference an already converted <name>.tokenizer.json instead")
    p.add_argument("--cfg-scale", type=float, help="guidance scale >= 1 (default: the official one, else 1.5)")
    p.add_argument("--cfg-interval", type=float, help="guidance only early on (see --cfg-interval-rule); -1: always")
    p.add_argument("--cfg-interval-rule", default="steps", choices=["steps", "official"],
                   help="steps: guided while step < N (parlab); official: PAR's generate() rule (python/sampler.py)")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        manifest = convert(args)
    except (ConvertError, VqError) as e:
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
