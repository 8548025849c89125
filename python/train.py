"""Train a class-conditional GPT on token grids under a schedule (raster, PAR, ablations).

Usage (from the repository root)::

    /usr/bin/python3 -m python.train --config par4 --data fixtures/emoji --out runs/par4 \\
        --dim 256 --layers 8 --heads 8 --steps 20000 --batch 64 --lr 3e-4
    /usr/bin/python3 -m python.train ... --export fixtures/models --name tiny-par4 --dtype float16

Video: ``--data fixtures/video`` (clips, ``parlab-video-tokens/1``) trains a video model; the
frames come from the data (the schedule is built on frames x height x width, the model gets 3D
RoPE), and ``--synthetic N --synthetic-grid 5x8x8`` makes synthetic clips.

Recipe: the training sequence, positions, targets and attention mask come from the schedule's
slot layout (python/layout.py), the same layout the sampler feeds step by step. AdamW (betas
0.9/0.95, weight decay on matrices only), linear warm-up then cosine decay to ``--min-lr-ratio``,
gradient clipping 1.0, class-label dropout 0.1 (null class, for classifier-free guidance),
horizontal flips with probability 0.5 (pre-encoded once, python/data.py), all seeded.
Logs (``<out>/log.json``): training loss and learning rate, validation NLL (nats/token) over
time, and at each evaluation the NLL per cell (grid order) and per step. Checkpoints
``<out>/ckpt.pt`` at every evaluation; rerunning the same command resumes from it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .data import TokenData, load_emoji, synthetic
from .layout import Layout
from .manifest import write_json_atomic
from .model import GPT, GPTConfig
from .schedule import CONFIG_NAMES, from_json, make_grid, schedule_by_name


def lr_at(step: int, total: int, base: float, warmup: int, min_ratio: float) -> float:
    """Linear warm-up to ``base`` over ``warmup`` steps, then cosine down to ``base * min_ratio``."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def make_optimizer(model: GPT, lr: float, weight_decay: float) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


@torch.no_grad()
def evaluate(model: GPT, layout: Layout, data: TokenData, batch: int, limit: int) -> Dict:
    """Validation NLL (nats) with the true class: mean, per cell (flat grid order) and per step."""
    model.eval()
    n = min(limit, len(data.val_tokens))
    cells = layout.num_cells
    per_cell = np.zeros(cells)
    tgt_cells = torch.from_numpy(layout.target)
    valid = tgt_cells >= 0
    for i in range(0, n, batch):
        tokens = torch.from_numpy(data.val_tokens[i : i + batch])
        labels = torch.from_numpy(data.val_labels[i : i + batch])
        ids, pos, tgt, mask = layout.tensors(tokens, labels)
        logits, _ = model(ids, pos, mask)
        nll = F.cross_entropy(logits.transpose(1, 2), tgt, ignore_index=-100, reduction="none")  # [B, L]
        per_cell[tgt_cells[valid].numpy()] += nll[:, valid].sum(0).numpy()
    per_cell /= n
    steps = layout.schedule["steps"]
    per_step = [float(np.mean(per_cell[s["cells"]])) for s in steps]
    model.train()
    return {"nll": float(per_cell.mean()), "perCell": per_cell.round(5).tolist(), "perStep": np.round(per_step, 5).tolist()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m python.train", description=__doc__.split("\n\n")[0])
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--config", help=f"schedule to train, by name: {', '.join(CONFIG_NAMES)}")
    which.add_argument("--schedule", metavar="FILE.json",
                       help="schedule to train, as the JSON that scheduleToJSON (src/schedule/schedule.ts) writes")
    p.add_argument("--out", required=True, help="run folder (checkpoint, log.json)")
    p.add_argument("--data", default="fixtures/emoji",
                   help="token fixtures folder: pictures (fixtures/emoji) or clips (fixtures/video)")
    p.add_argument("--synthetic", type=int, default=0, help="train on N synthetic grids instead of --data")
    p.add_argument("--synthetic-grid", default="24x24", metavar="[Fx]HxW",
                   help="grid of the --synthetic data: HxW pictures, or FxHxW clips of F frames (e.g. 5x8x8)")
    p.add_argument("--synthetic-vocab", type=int, default=1024, help="token vocabulary of the --synthetic data")
    p.add_argument("--no-flip", action="store_true", help="turn off horizontal-flip augmentation")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=None)
    p.add_argument("--multiple-of", type=int, default=256, help="SwiGLU hidden rounding (LlamaGen: 256)")
    p.add_argument("--dropout", type=float, default=0.0, help="token/residual/FFN dropout")
    p.add_argument("--class-dropout", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--eval-limit", type=int, default=256, help="validation pictures per evaluation")
    p.add_argument("--max-minutes", type=float, default=0, help="stop (and save) after this wall time; 0 = no limit")
    p.add_argument("--save-minutes", type=float, default=0,
                   help="also write the checkpoint (without evaluating) whenever this much wall time passed since"
                        " the last save, so an interruption loses at most that; 0 = save at evaluations only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads, and OpenBLAS threads where torch uses OpenBLAS (0: library defaults)")
    p.add_argument("--export", help="after training, export ONNX + manifest into this folder")
    p.add_argument("--name", help="exported model name (default: the config)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"])
    p.add_argument("--cfg-scale", type=float, default=1.5)
    return p


def parse_grid(text: str, flag: str = "--synthetic-grid"):
    """(frames, height, width) from "HxW" or "FxHxW"; ValueError naming the flag otherwise."""
    parts = text.lower().split("x")
    if len(parts) not in (2, 3) or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"{flag} {text!r} is not a grid: write HxW (pictures, e.g. 24x24) or FxHxW (clips of F"
                         " frames, e.g. 5x8x8)")
    dims = [int(p) for p in parts]
    return tuple(dims) if len(dims) == 3 else (1, dims[0], dims[1])


def load_data(args) -> TokenData:
    if args.synthetic:
        frames, height, width = parse_grid(getattr(args, "synthetic_grid", "24x24"))
        vocab = getattr(args, "synthetic_vocab", 1024)
        if vocab < 4:
            raise ValueError(f"--synthetic-vocab {vocab} is too small: use at least 4 (one band of tokens per class)")
        return synthetic(args.synthetic, height, width, vocab=vocab, seed=args.seed, frames=frames)
    return load_emoji(args.data, flip=not args.no_flip)


def set_blas_threads(n: int) -> Optional[str]:
    """Limit OpenBLAS's own thread pool to ``n`` (torch.set_num_threads does not reach it when torch
    calls OpenBLAS, as Debian's torch does). Measured on this 2-core machine: with --threads 1 and
    OpenBLAS left at its default, one process used both cores (user time 2m05 in 1m20 wall), so two
    "single-threaded" processes fought over the cores. Returns the library adjusted, or None."""
    import ctypes

    try:
        libs = {line.split()[-1] for line in open("/proc/self/maps") if "blas" in line and line.split()[-1].startswith("/")}
    except OSError:
        return None
    for lib in sorted(libs):
        try:
            fn = ctypes.CDLL(lib).openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        fn(int(n))
        return lib
    return None


def describe_data_grid(frames: int, height: int, width: int) -> str:
    return f"{height}x{width}" if frames == 1 else f"{frames}x{height}x{width} (frames x height x width, clips)"


def grid_fix(grid: Dict, frames: int, height: int, width: int) -> str:
    """The fix for a schedule grid that is not the data's: what to rebuild, or which data to pass."""
    fix = f"write the schedule for frames {frames}, height {height}, width {width}"
    if grid["frames"] > 1 and frames == 1:
        return f"{fix}, or train this video schedule on clips (--data fixtures/video)"
    return fix


def load_schedule_file(path: str, height: int, width: int, frames: int = 1) -> Dict:
    """A schedule written by scheduleToJSON, checked against the data's grid; ValueError (naming the
    field and the fix) when it cannot be trained."""
    where = f"--schedule {path}"
    try:
        text = open(path).read()
    except FileNotFoundError:
        raise ValueError(f"{where}: file not found (write it with scheduleToJSON, or train a named schedule with --config)")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where} is not valid JSON ({e}): fix the file (scheduleToJSON writes the expected form)")
    try:
        schedule = from_json(obj)
    except ValueError as e:
        raise ValueError(f"{where}: {e}")
    grid = schedule["grid"]
    if (grid["frames"], grid["height"], grid["width"]) != (frames, height, width):
        raise ValueError(f"{where}: schedule.grid is {grid['frames']}x{grid['height']}x{grid['width']} (frames x height x"
                         f" width) but the data's token grid is {describe_data_grid(frames, height, width)}:"
                         f" {grid_fix(grid, frames, height, width)}")
    return schedule


def schedule_for(args, data: TokenData) -> Dict:
    if args.schedule:
        return load_schedule_file(args.schedule, data.height, data.width, data.frames)
    return schedule_by_name(make_grid(data.height, data.width, data.frames), args.config)


def train(args) -> Dict:
    if args.threads:
        torch.set_num_threads(args.threads)
        set_blas_threads(args.threads)
    data = load_data(args)
    schedule = schedule_for(args, data)
    if args.config is None:
        args.config = schedule["name"]  # the run's label in logs, manifests and the default export name
    cfg = GPTConfig(
        vocab_size=data.vocab_size, num_classes=len(data.class_names), dim=args.dim, n_layer=args.layers,
        n_head=args.heads, n_kv_head=args.kv_heads, transition_tokens=schedule["transitionSlots"],
        height=data.height, width=data.width, multiple_of=args.multiple_of,
        token_dropout=args.dropout, resid_dropout=args.dropout, ffn_dropout=args.dropout, frames=data.frames,
    )
    torch.manual_seed(args.seed)
    model = GPT(cfg)
    opt = make_optimizer(model, args.lr, args.weight_decay)
    layout = Layout(schedule, cfg.vocab_size, cfg.num_classes)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    log = {"config": args.config, "args": vars(args), "model": cfg.to_dict(), "schedule": schedule["name"],
           "data": data.source, "train": [], "val": [], "seconds": 0.0}
    start_step = 0
    gen = torch.Generator().manual_seed(args.seed)
    if os.path.isfile(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        same_schedule = ck.get("scheduleSpec", schedule) == schedule and ck["schedule"] == schedule["name"]
        # checkpoints written before GPTConfig had `frames` lack the key: compare with defaults filled in
        if GPTConfig(**ck["model_config"]).to_dict() != cfg.to_dict() or not same_schedule:
            raise SystemExit(f"train: {ckpt_path} holds a different model or schedule: use another --out")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["generator"])
        log, start_step = ck["log"], ck["step"]
        print(f"[{args.config}] resumed at step {start_step}", flush=True)
    params = sum(p.numel() for p in model.parameters())
    what = "clips" if data.frames > 1 else "pictures"
    print(f"[{args.config}] {params} parameters, sequence {layout.length}, {len(schedule['steps'])} steps/image,"
          f" {len(data.train_tokens)} train / {len(data.val_tokens)} val {what}", flush=True)

    def save(step: int) -> None:
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                    "step": step, "log": log, "model_config": cfg.to_dict(), "schedule": schedule["name"],
                    "scheduleSpec": schedule,
                    "class_names": data.class_names}, tmp)
        os.replace(tmp, ckpt_path)
        write_json_atomic(os.path.join(args.out, "log.json"), log, indent=None)

    model.train()
    t0 = time.time() - log["seconds"]
    train_tokens = torch.from_numpy(data.train_tokens)
    flipped = torch.from_numpy(data.train_flipped) if data.train_flipped is not None else None
    labels_all = torch.from_numpy(data.train_labels)
    step = start_step
    running = []
    last_save = time.time()
    while step < args.steps:
        lr = lr_at(step, args.steps, args.lr, args.warmup, args.min_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.randint(0, len(train_tokens), (args.batch,), generator=gen)
        tokens = train_tokens[idx]
        if flipped is not None:
            flip = torch.rand(args.batch, generator=gen) < 0.5
            tokens = torch.where(flip[:, None], flipped[idx], tokens)
        labels = labels_all[idx]
        drop = torch.rand(args.batch, generator=gen) < args.class_dropout
        labels = torch.where(drop, torch.full_like(labels, cfg.num_classes), labels)
        ids, pos, tgt, mask = layout.tensors(tokens, labels)
        logits, _ = model(ids, pos, mask)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), tgt.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        step += 1
        running.append(loss.item())
        log["seconds"] = time.time() - t0
        if step % 10 == 0 or step == args.steps:
            log["train"].append({"step": step, "loss": round(float(np.mean(running)), 5), "lr": lr})
            print(f"[{args.config}] step {step}/{args.steps} loss {np.mean(running):.4f} lr {lr:.2e}"
                  f" {log['seconds']:.0f}s", flush=True)
            running = []
        out_of_time = args.max_minutes > 0 and log["seconds"] > args.max_minutes * 60
        if step % args.eval_every == 0 or step == args.steps or out_of_time:
            ev = evaluate(model, layout, data, args.batch, args.eval_limit)
            log["val"].append({"step": step, "nll": ev["nll"]})
            log["valPerCell"], log["valPerStep"] = ev["perCell"], ev["perStep"]
            print(f"[{args.config}] step {step} val NLL {ev['nll']:.4f} nats/token", flush=True)
            save(step)
            last_save = time.time()
        elif args.save_minutes > 0 and time.time() - last_save > args.save_minutes * 60:
            save(step)
            last_save = time.time()
        if out_of_time:
            print(f"[{args.config}] --max-minutes reached at step {step}; rerun to continue", flush=True)
            break
    result = {"model": model, "schedule": schedule, "log": log, "data": data, "step": step}
    if args.export:
        export_trained(args, model, schedule, log, data)
    return result


def unigram_entropy_nats(tokens) -> float:
    """Entropy (nats) of the training tokens' marginal distribution: the NLL of a model that
    ignores all context, the bar a trained model's per-token NLL must be far below."""
    counts = np.bincount(np.asarray(tokens).ravel().astype(np.int64))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def export_trained(args, model: GPT, schedule: Dict, log: Dict, data: TokenData) -> Dict:
    from .export import export_with_manifest, round_to_fp16

    if args.dtype == "float16":
        round_to_fp16(model)  # the PyTorch model now computes what the fp16-stored graph computes
    name = args.name or args.config
    codebook = None
    if data.codebook_path:
        codebook = os.path.relpath(data.codebook_path, args.export)
    last_val = log["val"][-1]["nll"] if log["val"] else None
    last_train = log["train"][-1]["loss"] if log["train"] else None
    prov = {"config": args.config, "data": data.source, "steps": log["train"][-1]["step"] if log["train"] else 0,
            "batch": args.batch, "lr": args.lr, "seed": args.seed, "finalTrainLoss": last_train,
            "finalValNll": last_val, "trainSeconds": round(log["seconds"], 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.node() or 'unknown host'}",
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "parameters": sum(p.numel() for p in model.parameters()),
            "unigramEntropyNats": round(unigram_entropy_nats(data.train_tokens), 4),
            "valNllPerCell": [round(float(x), 4) for x in log.get("valPerCell") or []],
            "valLimit": args.eval_limit}
    sampling = {"cfgScale": args.cfg_scale, "cfgInterval": None, "temperature": 1.0, "topK": 0, "topP": 1.0}
    return export_with_manifest(model.eval(), args.export, name, schedule, dtype=args.dtype,
                                class_names=data.class_names, sampling=sampling, codebook=codebook, provenance=prov)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        train(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"train: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
