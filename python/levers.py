"""Measure the CPU training levers of the experiment models (issue 15): seconds per training step.

Usage (from the repository root)::

    nice -n 19 /usr/bin/python3 -m python.levers --threads 1 --steps 3 \\
        --shape 128x4:2x64:b8 --shape 128x4:1x128:b8 --out python/experiment_levers.json

A shape is ``<width>x<layers>:<heads>x<head width>:b<batch>`` (optionally ``:kv<kv heads>``). Each
shape trains ``--steps`` timed steps (after one untimed warm-up step) of the real recipe (AdamW,
the raster layout of the emoji data, class dropout, flips) and records the median seconds per
step. Results are appended to the JSON file's ``speed`` list (never overwritten), with the machine
load at the time, so numbers from a loaded machine can be recognised. ``--threads`` limits OpenBLAS's
own pool too (``--no-blas-threads`` leaves it at its default of one thread per core).
Quality at a fixed wall time is measured with python.train itself (``--max-minutes``); the
results and their reading are in python/experiment_levers.json and python/experiment_levers.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import time

import torch
import torch.nn.functional as F

from .data import load_emoji
from .layout import Layout
from .model import GPT, GPTConfig
from .schedule import make_grid, schedule_by_name
from .train import make_optimizer, set_blas_threads


def parse_shape(text: str) -> dict:
    m = re.fullmatch(r"(\d+)x(\d+):(\d+)x(\d+):b(\d+)(?::kv(\d+))?", text)
    if not m:
        raise SystemExit(f"levers: --shape {text!r} must look like 128x4:2x64:b8 (width x layers : heads x head width : batch)")
    dim, layers, heads, hw, batch = (int(m.group(i)) for i in range(1, 6))
    if heads * hw != dim:
        raise SystemExit(f"levers: --shape {text!r}: heads x head width ({heads}x{hw}) must equal the width {dim}")
    return {"shape": text, "dim": dim, "layers": layers, "heads": heads, "headWidth": hw, "batch": batch,
            "kvHeads": int(m.group(6)) if m.group(6) else heads}


def time_shape(spec: dict, data, config: str, steps: int, multiple_of: int) -> dict:
    schedule = schedule_by_name(make_grid(data.height, data.width), config)
    cfg = GPTConfig(vocab_size=data.vocab_size, num_classes=len(data.class_names), dim=spec["dim"],
                    n_layer=spec["layers"], n_head=spec["heads"], n_kv_head=spec["kvHeads"],
                    transition_tokens=schedule["transitionSlots"], height=data.height, width=data.width,
                    multiple_of=multiple_of)
    torch.manual_seed(0)
    model = GPT(cfg)
    opt = make_optimizer(model, 2e-3, 0.05)
    layout = Layout(schedule, cfg.vocab_size, cfg.num_classes)
    gen = torch.Generator().manual_seed(0)
    tokens_all = torch.from_numpy(data.train_tokens)
    labels_all = torch.from_numpy(data.train_labels)
    times = []
    for i in range(steps + 1):
        t0 = time.time()
        idx = torch.randint(0, len(tokens_all), (spec["batch"],), generator=gen)
        ids, pos, tgt, mask = layout.tensors(tokens_all[idx], labels_all[idx])
        logits, _ = model(ids, pos, mask)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), tgt.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i > 0:
            times.append(time.time() - t0)
    return {**spec, "config": config, "parameters": sum(p.numel() for p in model.parameters()),
            "ffnHidden": cfg.hidden, "secondsPerStep": round(statistics.median(times), 3),
            "stepTimes": [round(t, 3) for t in times]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.levers", description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", action="append", required=True)
    p.add_argument("--data", default="fixtures/emoji")
    p.add_argument("--config", default="raster")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--multiple-of", type=int, default=32)
    p.add_argument("--out", default="python/experiment_levers.json")
    p.add_argument("--no-blas-threads", dest="blas_threads", action="store_false",
                   help="leave OpenBLAS's own thread pool alone (its default: one thread per core)")
    args = p.parse_args(argv)
    specs = [parse_shape(s) for s in args.shape]
    torch.set_num_threads(args.threads)
    blas = set_blas_threads(args.threads) if args.blas_threads else None
    data = load_emoji(args.data, flip=False)
    doc = json.load(open(args.out)) if os.path.isfile(args.out) else {}
    doc.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    doc.setdefault("speed", [])
    for spec in specs:
        load_before = os.getloadavg()[0]
        row = time_shape(spec, data, args.config, args.steps, args.multiple_of)
        openblas = args.threads if blas else os.environ.get("OPENBLAS_NUM_THREADS", "default")
        row.update({"threads": args.threads, "openblasThreads": openblas, "timedSteps": args.steps,
                    "load1Before": round(load_before, 2), "when": time.strftime("%Y-%m-%d %H:%M:%S")})
        doc["speed"].append(row)
        print(f"{row['shape']:>18} {row['parameters'] / 1e6:5.2f}M  {row['secondsPerStep']:.3f} s/step"
              f"  ({args.threads} thread(s), load {load_before:.2f}) {row['stepTimes']}", flush=True)
        with open(args.out + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
