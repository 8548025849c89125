"""python/fused.py's graphs: structure, contract names, manifests. (Numbers: onnxruntime runs only
in Deno; tests/golden_parity_test.ts replays the micro models' fused graphs against PyTorch.)"""
import json
import os

import numpy as np
import onnx
import pytest

from python.export import export_with_manifest
from python.fused import build_fused, node_counts, quantize_blockwise
from python.schedule import make_grid, schedule_by_name

from .helpers import random_model


def _mha(**kw):
    return random_model(n_kv_head=None, **kw)  # fused graphs need kv heads == heads


def test_split_graph_outputs_new_slots_only():
    g = build_fused(_mha(), attention="split")
    # (onnx.checker does not know onnxruntime's contrib operators; tests/ run the graphs)
    outs = [o.name for o in g.graph.output]
    assert outs[0] == "logits"
    assert "new.1.value" in outs and not any(o.startswith("present.") for o in outs)
    ops = {n.op_type for n in g.graph.node}
    assert "MultiHeadAttention" not in ops and "FusedMatMul" in ops
    # no node concatenates the cache: only the scores and the shape pair are concatenated
    concat_inputs = [i for n in g.graph.node if n.op_type == "Concat" for i in n.input]
    assert not any(i.startswith("past.") for i in concat_inputs)


def test_mha_graph_keeps_the_contract_and_adds_new_slots():
    g = build_fused(_mha(), attention="mha")
    # (onnx.checker does not know onnxruntime's contrib operators; tests/ run the graphs)
    outs = [o.name for o in g.graph.output]
    assert "present.0.key" in outs and "new.0.key" in outs
    assert sum(n.op_type == "MultiHeadAttention" for n in g.graph.node) == 2


def test_fewer_nodes_than_the_trace(tmp_path):
    model = _mha()
    sched = schedule_by_name(make_grid(4, 4), "par4")
    traced = export_with_manifest(model, str(tmp_path), "t", sched)
    fused = export_with_manifest(model, str(tmp_path), "f", sched, graph="fused")
    count = lambda m: sum(node_counts(os.path.join(tmp_path, m["onnx"])).values())  # noqa: E731
    assert count(fused) * 3 < count(traced)
    on_disk = json.load(open(os.path.join(tmp_path, "f.json")))
    assert on_disk["graph"] == "fused" and on_disk["cache"] == "new"
    assert "graph" not in traced and "cache" not in traced  # earlier manifests stay byte-identical


def test_float16_graph_defaults_to_mha_with_half_cache(tmp_path):
    sched = schedule_by_name(make_grid(4, 4), "par4")
    man = export_with_manifest(_mha(), str(tmp_path), "h", sched, graph="fused", compute="float16")
    assert man["compute"] == "float16" and "cache" not in man
    g = onnx.load(os.path.join(tmp_path, "h.onnx"))
    types = {v.name: v.type.tensor_type.elem_type for v in list(g.graph.input) + list(g.graph.output)}
    assert types["past.0.key"] == onnx.TensorProto.FLOAT16 and types["present.1.value"] == onnx.TensorProto.FLOAT16
    assert types["logits"] == onnx.TensorProto.FLOAT


def test_grouped_kv_heads_are_refused():
    with pytest.raises(ValueError, match="grouped key/value heads"):
        build_fused(random_model())


@pytest.mark.parametrize("bits", [8, 4])
def test_blockwise_quantization_error_is_bounded(bits):
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.05, (96, 40)).astype(np.float32)  # K not a multiple of the block: padded
    packed, scales, deq = quantize_blockwise(w, bits, 32)
    assert packed.shape == (40, 3, 32 * bits // 8) and scales.shape == (40 * 3,)
    # round to nearest: at most half a step of each block's scale
    step = np.repeat(scales.reshape(40, 3), 32, axis=1)[:, :96].T
    assert np.all(np.abs(deq - w) <= step / 2 + 1e-7)
    g = build_fused(_mha(), quantize=bits)
    assert sum(n.op_type == "MatMulNBits" for n in g.graph.node) == 2 * 4  # qkv, wo, w13, w2 per layer
