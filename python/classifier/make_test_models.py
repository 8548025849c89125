#!/usr/bin/python3
"""Writes two tiny ONNX graphs (a few hundred bytes each) that the Deno feature-extractor tests
use to check input layout and normalisation exactly:

  fixtures/classifier/test-mean-nchw.onnx: input "x" [B,3,H,W] -> "features" = per-channel means
      [B,3] and "scores" = the same values (so argmax = brightest normalised channel);
  fixtures/classifier/test-mean-nhwc.onnx: input "x" [B,H,W,3] -> the same outputs.

Built with onnx.helper only (no torch). Run from the project root:
  /usr/bin/python3 python/classifier/make_test_models.py
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def mean_model(layout):
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    shape = ["batch", 3, "height", "width"] if layout == "NCHW" else ["batch", "height", "width", 3]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    features = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 3])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])
    nodes = [
        # opset 17 ReduceMean takes axes as an attribute
        helper.make_node("ReduceMean", ["x"], ["features"], axes=axes, keepdims=0),
        helper.make_node("Identity", ["features"], ["scores"]),
    ]
    graph = helper.make_graph(nodes, f"mean_{layout.lower()}", [x], [features, scores])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="parlab make_test_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main(argv):
    out = argv[0] if argv else "fixtures/classifier"
    os.makedirs(out, exist_ok=True)
    for layout in ("NCHW", "NHWC"):
        path = os.path.join(out, f"test-mean-{layout.lower()}.onnx")
        onnx.save(mean_model(layout), path)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
