"""python/sampling_head.py: the head's graph I/O, the manifest key, and its refusals.

Its numbers are tested in Deno against the JavaScript draw (tests/sampling_head_test.ts): this
Python has no onnxruntime to run the graph.
"""
import os

import onnx
import pytest
from onnx import TensorProto, helper

from python.export import export_with_manifest
from python.sampling_head import add_sampling_head
from python.schedule import make_grid, schedule_by_name

from .helpers import random_model


def _io(value_info):
    t = value_info.type.tensor_type
    return t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]


def test_export_with_head_writes_inputs_output_and_manifest_key(tmp_path):
    model = random_model()
    sched = schedule_by_name(make_grid(4, 4), "par4")
    plain = export_with_manifest(model, str(tmp_path), "plain", sched)
    assert "samplingHead" not in plain  # older manifests stay byte-identical
    man = export_with_manifest(model, str(tmp_path), "head", sched, sampling_head=True)
    assert man["samplingHead"] is True
    g = onnx.load(os.path.join(tmp_path, man["onnx"])).graph
    ins = {i.name: i for i in g.input}
    outs = {o.name: o for o in g.output}
    assert _io(ins["draw_uniforms"]) == (TensorProto.FLOAT, ["images", "step"])
    assert _io(ins["draw_settings"]) == (TensorProto.FLOAT, [4])
    assert _io(ins["draw_top_k"]) == (TensorProto.INT64, [1])
    assert _io(outs["tokens"]) == (TensorProto.INT64, ["images", "step"])
    assert "logits" in outs  # kept: entropy recording reads it
    assert {n.op_type for n in g.node} >= {"TopK", "CumSum", "ScatterElements", "ArgMax", "Where"}


def _logits_only(elem=TensorProto.FLOAT):
    x = helper.make_tensor_value_info("x", elem, ["b", "t", 8])
    y = helper.make_tensor_value_info("logits", elem, ["b", "t", 8])
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["logits"])], "g", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_refusals():
    proto = add_sampling_head(_logits_only())
    with pytest.raises(ValueError, match="already has a sampling head"):
        add_sampling_head(proto)
    with pytest.raises(ValueError, match="float32 'logits'"):
        add_sampling_head(_logits_only(TensorProto.DOUBLE))
    old = _logits_only()
    old.opset_import[0].version = 13
    with pytest.raises(ValueError, match="opset"):
        add_sampling_head(old)
