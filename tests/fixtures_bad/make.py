"""Tiny ONNX step graphs that break the step contract, each with a manifest, for
tests/loading_hardening_test.ts. Regenerate with

    /usr/bin/python3 tests/fixtures_bad/make.py

Every graph has 1 layer, 1 KV head of width 2 and (unless said otherwise) a vocabulary of 8; its
logits are zeros (or NaN) and its cache grows by the step's slots, so it runs under the sampler.

- ok.onnx            a graph that keeps the contract (static vocabulary 8)
- dynvocab.onnx      the same with a symbolic vocabulary axis: its width shows only at a step
                     (narrow.json says 9, wide.json says 7)
- no-present.onnx    declares no present.* outputs
- int32-ids.onnx     takes int32 input_ids
- nan.onnx           logits are NaN
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
V, KVH, HD = 8, 1, 2


def graph(name: str, *, ids_type=TensorProto.INT64, vocab_dim=V, present=True, fill=0.0) -> onnx.ModelProto:
    inputs = [
        helper.make_tensor_value_info("input_ids", ids_type, ["batch", "step"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "step"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.BOOL, ["batch", 1, "step", "total"]),
        helper.make_tensor_value_info("past.0.key", TensorProto.FLOAT, ["batch", KVH, "past", HD]),
        helper.make_tensor_value_info("past.0.value", TensorProto.FLOAT, ["batch", KVH, "past", HD]),
    ]
    inits = [
        numpy_helper.from_array(np.full([V], fill, np.float32), "vocab_row"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
    ]
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids_f", "axis2"], ["ids_3"]),  # [B, T, 1]
    ]
    if isinstance(vocab_dim, int):
        nodes += [helper.make_node("Mul", ["ids_3", "vocab_row"], ["logits"])]  # [B, T, V]
    else:
        # The row's length comes out of NonZero, whose output shape is data-dependent: shape
        # inference cannot fix the vocabulary axis, so its width shows only when a step runs.
        inits.append(numpy_helper.from_array(np.ones([V], np.float32), "ones"))
        nodes += [
            helper.make_node("NonZero", ["ones"], ["nz"]),  # [1, V]
            helper.make_node("Reshape", ["nz", "minus1"], ["idx"]),  # [V]
            helper.make_node("Gather", ["vocab_row", "idx"], ["row"]),  # [?]
            helper.make_node("Mul", ["ids_3", "row"], ["logits"]),  # [B, T, ?]
        ]
        inits.append(numpy_helper.from_array(np.array([-1], np.int64), "minus1"))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "step", vocab_dim])]
    if present:
        inits += [
            numpy_helper.from_array(np.zeros([1, KVH, 1, HD], np.float32), "kv_row"),
            numpy_helper.from_array(np.array([1, 3], np.int64), "axes13"),
        ]
        nodes += [
            helper.make_node("Unsqueeze", ["ids_f", "axes13"], ["ids_4"]),  # [B, 1, T, 1]
            helper.make_node("Mul", ["ids_4", "kv_row"], ["new_kv"]),  # [B, KVH, T, HD]
            helper.make_node("Concat", ["past.0.key", "new_kv"], ["present.0.key"], axis=2),
            helper.make_node("Concat", ["past.0.value", "new_kv"], ["present.0.value"], axis=2),
        ]
        outputs += [
            helper.make_tensor_value_info("present.0.key", TensorProto.FLOAT, ["batch", KVH, "total", HD]),
            helper.make_tensor_value_info("present.0.value", TensorProto.FLOAT, ["batch", KVH, "total", HD]),
        ]
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="parlab-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def manifest(name: str, onnx_file: str, vocab: int) -> dict:
    with open(os.path.join(HERE, onnx_file), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return {
        "format": "parlab-model/1",
        "name": name,
        "onnx": onnx_file,
        "sha256": sha,
        "dtype": "float32",
        "vocabSize": vocab,
        "numClasses": 2,
        "transitionTokens": 0,
        "grid": {"frames": 1, "height": 2, "width": 2},
        "layers": 1,
        "heads": 1,
        "kvHeads": KVH,
        "headDim": HD,
        "dim": HD,
    }


def main() -> None:
    graphs = {
        "ok": graph("ok"),
        "dynvocab": graph("dynvocab", vocab_dim="vocab"),
        "no-present": graph("no-present", present=False),
        "int32-ids": graph("int32-ids", ids_type=TensorProto.INT32),
        "nan": graph("nan", vocab_dim="vocab", fill=float("nan")),
    }
    for name, model in graphs.items():
        onnx.save(model, os.path.join(HERE, f"{name}.onnx"))
    manifests = {
        "ok": manifest("ok", "ok.onnx", V),
        "narrow": manifest("narrow", "dynvocab.onnx", V + 1),
        "wide": manifest("wide", "dynvocab.onnx", V - 1),
        "no-present": manifest("no-present", "no-present.onnx", V),
        "int32-ids": manifest("int32-ids", "int32-ids.onnx", V),
        "nan": manifest("nan", "nan.onnx", V),
    }
    for name, m in manifests.items():
        with open(os.path.join(HERE, f"{name}.json"), "w") as f:
            json.dump(m, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
