"""PAR-L-shaped model with random weights: ONNX export for the Deno backends, and the PyTorch
reference sampler's timing beside it (run on the GPU machine; the model is too large to carry).

Shape of PAR-L (paper sec. 5): 24 layers, width 1024, 16 heads, vocabulary 16384, 1000 classes,
24x24 token grid; 15 transition tokens so one model serves raster (0 used), PAR-4x (3) and
PAR-16x (15). Weights are random (seeded): timings do not depend on them.

    python3 gpu/par_l_reference.py --export /tmp/parl            # ONNX + manifest (fp32 weights)
    python3 gpu/par_l_reference.py --export /tmp/parl --graph fused --name par-l-f32   # fused fp32
    python3 gpu/par_l_reference.py --export /tmp/parl --graph fused --compute float16 --name par-l-f16
    python3 gpu/par_l_reference.py --time --device cuda --batches 1,8 --out $OUT/torch.json
    python3 gpu/par_l_reference.py --smoke --time --export /tmp/s  # tiny dims, CPU: plumbing check

The timing runs python/sampler.py's reference sampler (the algorithm the TypeScript sampler
follows) with a step function that keeps the KV cache on the device and downloads the logits,
the same division of work as the WebGPU backend. Guidance on (cfg 1.6, PAR-L's), rows doubled.
Reported per schedule and batch: seconds per image, speed-up against raster, step-time ratio,
and the model's share (the rest is numpy token drawing). python/ comes from the repository root
(the py branch's PyTorch bridge); pass --python-root to use another copy.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import os
import platform
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python-root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                   help="folder holding the python/ package (default: the repository root)")
    p.add_argument("--export", metavar="DIR", help="write DIR/<name>.onnx and DIR/<name>.json")
    p.add_argument("--name", default="par-l-shape")
    p.add_argument("--weights", default="float32", choices=["float32", "float16"],
                   help="ONNX weight storage (float16 halves the file; compute stays float32)")
    p.add_argument("--graph", default="traced", choices=["traced", "fused"],
                   help="traced: torch.onnx.export; fused: python/fused.py's fused operators (what "
                        "python -m python.export writes by default)")
    p.add_argument("--sampling-head", action="store_true",
                   help="export with python/sampling_head.py's in-graph draw (ids come back, not logits)")
    p.add_argument("--attention", default="mha", choices=["mha", "split"],
                   help="--graph fused only: mha (default here: the grown cache is an output, which the WebGPU and "
                        "CUDA backends keep on the device) or split (the CPU's layout, onnxruntime-node only)")
    p.add_argument("--compute", default="float32", choices=["float32", "float16"],
                   help="float16 (--graph fused only): fp16 arithmetic and KV cache, fp16 weights; for the GPU "
                        "backends (WebGPU needs the adapter feature shader-f16)")
    p.add_argument("--time", action="store_true", help="time the PyTorch reference sampler")
    p.add_argument("--device", default="cuda")
    p.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                   help="PyTorch timing: float32, or bfloat16 autocast")
    p.add_argument("--schedules", default="raster,par4,par16")
    p.add_argument("--batches", default="1,8")
    p.add_argument("--cfg", type=float, default=1.6)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny dims (2 layers, width 64, V 512) for a CPU check")
    p.add_argument("--shape", choices=["par-l", "w256"], default="par-l",
                   help="w256: python/bench_models.py's 256-wide model (the same seeded weights as its ONNX)")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    p.add_argument("--out", help="write the timing JSON here")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    root = os.path.abspath(args.python_root)
    if not os.path.isfile(os.path.join(root, "python", "model.py")):
        print(f"par_l_reference: no python/model.py under {root}. Fix: merge the py branch (python/) or pass "
              "--python-root", file=sys.stderr)
        return 1
    sys.path.insert(0, root)
    import numpy as np
    import torch

    from python.model import GPT, GPTConfig
    from python.sampler import Sampling, sample
    from python.schedule import make_grid, schedule_by_name

    if args.compute == "float16" and args.graph != "fused":
        print("par_l_reference: --compute float16 needs --graph fused (the traced export computes in float32)",
              file=sys.stderr)
        return 1
    if not (args.export or args.time):
        print("par_l_reference: nothing to do. Fix: pass --export DIR and/or --time", file=sys.stderr)
        return 1
    if args.time and args.device.startswith("cuda") and not torch.cuda.is_available():
        print("par_l_reference: --device cuda but torch sees no CUDA device. Fix: --device cpu (slow) or run on "
              "the GPU machine", file=sys.stderr)
        return 1
    torch.manual_seed(args.seed)
    if args.smoke:
        cfg = GPTConfig(vocab_size=512, num_classes=10, dim=64, n_layer=2, n_head=4, transition_tokens=15)
    else:
        from python.bench_models import SHAPES

        cfg = GPTConfig(**SHAPES[args.shape])  # par-l: 24 layers, 1024 wide, 16 heads, V 16384
    if args.threads:
        torch.set_num_threads(args.threads)
    model = GPT(cfg).eval()
    with torch.no_grad():  # LlamaGen zeroes the head at init; random logits are more realistic
        torch.nn.init.normal_(model.output.weight, std=0.02)
    params = sum(p.numel() for p in model.parameters())
    print(f"[par_l] model: {cfg.n_layer} layers x {cfg.dim} wide, {cfg.n_head} heads, V={cfg.vocab_size}, "
          f"{params / 1e6:.1f}M parameters", flush=True)
    grid = make_grid(cfg.height, cfg.width)

    if args.export:
        from python.export import export_with_manifest

        # torch >= 2.9 defaults to the dynamo exporter; the step contract was written for the
        # TorchScript one (dynamic_axes), so ask for that where the argument exists.
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            torch.onnx.export = functools.partial(torch.onnx.export, dynamo=False)
        t0 = time.time()
        # an fp16-compute graph stores its weights in fp16 whatever --weights says; the manifest says so
        dtype = "float16" if args.compute == "float16" else args.weights
        export_with_manifest(model, args.export, args.name, schedule_by_name(grid, "par16"), dtype=dtype,
                             graph=args.graph, compute=args.compute,
                             attention=args.attention if args.graph == "fused" else None,
                             sampling_head=args.sampling_head,
                             sampling={"cfgScale": args.cfg, "cfgInterval": None, "temperature": 1.0,
                                       "topK": 0, "topP": 1.0},
                             provenance={"note": "random weights, PAR-L shape, for speed measurements only"})
        size = os.path.getsize(os.path.join(args.export, f"{args.name}.onnx"))
        print(f"[par_l] exported {args.export}/{args.name}.onnx ({size / 2**20:.0f} MiB) in {time.time() - t0:.0f} s",
              flush=True)

    if not args.time:
        return 0
    device = torch.device(args.device)
    model = model.to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if args.precision == "bfloat16" \
        else contextlib.nullcontext

    def make_step():
        state = {"past": None, "model_s": 0.0, "steps": []}

        @torch.no_grad()
        def step(ids, pos, mask):
            t = time.perf_counter()
            with autocast():
                logits, presents = model(torch.from_numpy(ids).to(device), torch.from_numpy(pos).to(device),
                                         torch.from_numpy(mask).to(device), state["past"])
            out = logits.float().cpu().numpy()  # waits for the GPU
            state["past"] = presents
            dt = time.perf_counter() - t
            state["model_s"] += dt
            state["steps"].append((ids.shape[1], dt))
            return out

        return step, state

    sampling = Sampling(cfg_scale=args.cfg)
    rows = []
    n_cells = cfg.height * cfg.width
    for batch in [int(b) for b in args.batches.split(",")]:
        base = None
        for name in args.schedules.split(","):
            schedule = schedule_by_name(grid, name)
            classes = [i % cfg.num_classes for i in range(batch)]
            rng = np.random.default_rng(args.seed)
            best = None
            for r in range(1 + args.repeats):  # the first run warms up (allocator, kernels)
                step, state = make_step()
                uniforms = rng.random((batch, n_cells))
                sync()
                t0 = time.perf_counter()
                sample(step, schedule, classes, uniforms, cfg.vocab_size, cfg.num_classes, sampling)
                sync()
                wall = time.perf_counter() - t0
                if r > 0 and (best is None or wall < best[0]):
                    best = (wall, state)
            wall, state = best
            steps = len(schedule["steps"])
            single = [dt for t, dt in state["steps"][1:9] if t == 1]
            row = {
                "schedule": name, "batch": batch, "steps": steps, "secondsPerImage": wall / batch,
                "msPerStep": wall / steps * 1000, "modelMsPerStep": state["model_s"] / steps * 1000,
                "floorMs": (sum(single) / len(single) * 1000) if single else None,
                "samplerShare": 1 - state["model_s"] / wall, "stepLimit": n_cells / steps,
            }
            if name == "raster":
                base = row
            row["speedup"] = base["secondsPerImage"] / row["secondsPerImage"] if base else None
            row["stepTimeRatio"] = row["msPerStep"] / base["msPerStep"] if base else None
            rows.append(row)
            print(f"[par_l] {name} batch {batch}: {row['secondsPerImage']:.3f} s/image, {row['msPerStep']:.2f} ms/step",
                  flush=True)

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    result = {"runtime": f"torch {torch.__version__} {args.precision}", "device": gpu, "cfgScale": args.cfg,
              "threads": torch.get_num_threads(),
              "model": {"layers": cfg.n_layer, "dim": cfg.dim, "heads": cfg.n_head, "vocab": cfg.vocab_size,
                        "params": params}, "rows": rows}
    print(f"PyTorch reference sampler on {gpu} ({result['runtime']})")
    print("| schedule | batch | steps | s/image | speed-up | limit | ms/step | step-time ratio | model ms/step |"
          " floor ms | sampler share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    fmt = lambda x, f: "n/a" if x is None else format(x, f)  # noqa: E731
    for r in rows:
        print(f"| {r['schedule']} | {r['batch']} | {r['steps']} | {r['secondsPerImage']:.3f} | "
              f"{fmt(r['speedup'], '.2f')}x | {r['stepLimit']:.2f}x | {r['msPerStep']:.2f} | "
              f"{fmt(r['stepTimeRatio'], '.2f')} | {r['modelMsPerStep']:.2f} | {fmt(r['floorMs'], '.2f')} | "
              f"{r['samplerShare'] * 100:.1f}% |")
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(result, fh, indent=1)
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
