"""Random-weight models of fixed shapes for the speed benchmarks, plus the floor bench's probe graph.

    /usr/bin/python3 -m python.bench_models --out out/bench-models [--shapes w256,par-l] [--graphs fused,traced]

Shapes (seeded random weights; timings do not depend on the values):
- ``w256``: a PAR model of width 256, 4 layers, 4 heads of 64, vocabulary 1024, 10 classes, 24x24
  grid, 15 transition tokens (raster, PAR-4x and PAR-16x share it): the issue-16 comparison model.
- ``par-l``: PAR-L's shape (24 layers, width 1024, 16 heads, vocabulary 16384, 1000 classes,
  24x24; 343M parameters; 1.4 GB as fp32).
Each is written as ``<shape>-<graph>.{onnx,json}`` for every ``--graphs`` kind (``fused``:
python/fused.py's CPU graph; ``fused-q8`` / ``fused-q4``: the same with 8- / 4-bit block-wise
weights; ``fused-mha``: the GPU backends' layout; ``fused-head``: with the in-graph draw; ``traced``: torch.onnx.export), and ``<shape>.pt`` holds the weights for the
PyTorch reference sampler (bench/torch_reference.py), so both sides time the same numbers.
``probe-matmul.onnx`` is one ``MatMul`` with both operands as inputs (any sizes): the floor
bench (bench/floor.ts) measures read bandwidth and matmul throughput with it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from .export import export_with_manifest
from .model import GPT, GPTConfig
from .schedule import make_grid, schedule_by_name

SHAPES = {
    "w256": dict(vocab_size=1024, num_classes=10, dim=256, n_layer=4, n_head=4, transition_tokens=15),
    "par-l": dict(vocab_size=16384, num_classes=1000, dim=1024, n_layer=24, n_head=16, transition_tokens=15),
}


#: Graph kinds: export_with_manifest keyword arguments.
GRAPHS = {
    "fused": {"graph": "fused"},
    "fused-q8": {"graph": "fused", "quantize": 8},
    "fused-q4": {"graph": "fused", "quantize": 4},
    "fused-mha": {"graph": "fused", "attention": "mha"},
    "fused-head": {"graph": "fused", "sampling_head": True},
    "traced": {"graph": "traced"},
}


def random_model(shape: str, seed: int = 0) -> GPT:
    """The seeded random model of a shape; the output head is drawn (LlamaGen zeroes it at init,
    which would make every distribution uniform)."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(**SHAPES[shape])).eval()
    with torch.no_grad():
        torch.nn.init.normal_(model.output.weight, std=0.02)
    return model


def write_probe(path: str) -> None:
    """``y = MatMul(a, b)`` with a [M, K] and b [K, N] float32 inputs, every axis dynamic; and
    beside it ``probe-read.onnx``: ``s = ReduceSum(b, axis 1)`` (rows summed in parallel: a pure
    read of b on every core). Two files because onnxruntime runs every node of a graph whatever
    is fetched."""
    import onnx
    from onnx import TensorProto, helper

    def save(graph, file: str) -> None:
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, file + ".tmp")
        os.replace(file + ".tmp", file)

    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["k", "n"])
    save(helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["y"])], "probe-matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["m", "k"]), b],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", "n"])]), path)
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    save(helper.make_graph(
        [helper.make_node("ReduceSum", ["b", "axes"], ["s"], keepdims=0)], "probe-read", [b],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, ["k"])], initializer=[axes]),
        os.path.join(os.path.dirname(path), "probe-read.onnx"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m python.bench_models", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out/bench-models")
    p.add_argument("--shapes", default="w256,par-l")
    p.add_argument("--graphs", default="fused,traced")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    write_probe(os.path.join(args.out, "probe-matmul.onnx"))
    for shape in args.shapes.split(","):
        if shape not in SHAPES:
            print(f"bench_models: unknown shape {shape!r}; known: {', '.join(SHAPES)}", file=sys.stderr)
            return 1
        model = random_model(shape)
        torch.save({"shape": shape, "config": SHAPES[shape], "model": model.state_dict()},
                   os.path.join(args.out, f"{shape}.pt"))
        schedule = schedule_by_name(make_grid(24, 24), "par16")
        for graph in args.graphs.split(","):
            if graph not in GRAPHS:
                print(f"bench_models: unknown graph {graph!r}; known: {', '.join(GRAPHS)}", file=sys.stderr)
                return 1
            t0 = time.time()
            export_with_manifest(model, args.out, f"{shape}-{graph}", schedule, **GRAPHS[graph],
                                 sampling={"cfgScale": 1.5, "cfgInterval": None, "temperature": 1.0,
                                           "topK": 0, "topP": 1.0},
                                 provenance={"note": f"random weights, {shape} shape, for speed measurements only"})
            size = os.path.getsize(os.path.join(args.out, f"{shape}-{graph}.onnx"))
            print(json.dumps({"model": f"{shape}-{graph}", "bytes": size, "seconds": round(time.time() - t0, 1)}),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
