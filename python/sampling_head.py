"""An optional sampling head inside the step graph: the step returns token ids besides its logits.

``add_sampling_head(proto)`` appends to an exported step graph (python/export.py's traced graph or
python/fused.py's fused one; both end in ``logits`` float32 [B, T, V]) the draw rule of
src/sampler/distribution.ts ``TokenDrawer.draw`` (and python/sampler.py), in float32:

  inputs:  draw_uniforms float32 [images, T]  the uniform of each slot (slots that draw nothing: 0)
           draw_settings float32 [4]          guidance scale s, guidance on (1) or off (0) at
                                              this step, temperature, topP
           draw_top_k    int64 [1]            keep the k most likely ids; 0 (or >= V): off
  output:  tokens int64 [images, T]           the drawn id of each slot; -1 where that slot's
                                              logits are not finite (NaN, +Inf, all -Inf)

Rows: the first ``images`` rows of ``logits`` are conditional; with guidance the last ``images``
rows are the unconditional ones. The unconditional rows are sliced from ``B - images``, so a batch
without them (``B == images``) degenerates to the conditional rows, and the guidance flag selects
``c`` itself (not ``u + 1 * (c - u)``) at steps the sampler does not guide (cfgInterval).

The rule, step for step as TokenDrawer.draw:
1. ``l = u + s (c - u)`` when guided, else ``l = c``; ``z = l / temperature``;
   ``e = exp(z - max z)``; ``S = sum e`` (``S >= 1`` unless the logits are not finite: the
   largest term is exp(0) = 1; a NaN sum makes the slot's token -1, the device's version of
   ``NonFiniteLogitsError``);
2. rank by ``TopK(e, k')`` with k' = k when 0 < k < V, else V (ONNX TopK breaks ties by the lower
   index, TokenDrawer's order too); keep the first k' ranks; with neither filter on, every id
   (and k' = 1, so the step sorts nothing);
3. top-p over those ranks: keep rank r when the mass of ranks before r, over the kept mass, is
   below topP (= up to and including the first rank whose running sum reaches topP); topP >= 1
   keeps every rank;
4. scatter the kept ranks back to an id mask, accumulate the kept e in ascending id order
   (CumSum) and return the first id whose running sum exceeds ``u * total`` (ArgMax of the first
   true), else (float rounding of ``u * total`` up to ``total``) the last kept id.
Float32 where TokenDrawer uses float64: a token can differ only when ``u`` lies within float32
rounding of a cumulative boundary (or at a top-k / top-p cut within rounding); tests/
sampling_head_test.ts measures how often.

Cost: top-p alone sorts all V ids of every slot, top-k partially sorts; without filters TopK
takes k' = 1 and the kept mask is all ones (``Where``), so the head is a few passes over V. No
control flow (``If``): the WebGPU provider would run it on the CPU.
"""
from __future__ import annotations

import os
from typing import List

import numpy as np

#: Graph input and output names of the head (src/model/feeds.ts checks them against the manifest).
UNIFORMS = "draw_uniforms"
SETTINGS = "draw_settings"
TOP_K = "draw_top_k"
TOKENS = "tokens"
HEAD_INPUTS = (UNIFORMS, SETTINGS, TOP_K)


def add_sampling_head(proto, opset: int = 17):
    """Append the sampling head to ``proto`` (an ``onnx.ModelProto`` of the step contract, opset
    17) in place and return it. Raises ValueError when the graph has no float32 ``logits`` output,
    already has a head, or imports another default-domain opset."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = proto.graph
    outputs = {o.name: o for o in g.output}
    if "logits" not in outputs or outputs["logits"].type.tensor_type.elem_type != TensorProto.FLOAT:
        raise ValueError("add_sampling_head: the graph has no float32 'logits' output (export it with python/export.py)")
    taken = {i.name for i in g.input} | set(outputs)
    if taken & {*HEAD_INPUTS, TOKENS}:
        raise ValueError("add_sampling_head: the graph already has a sampling head")
    versions = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")]
    if versions != [opset]:
        raise ValueError(f"add_sampling_head: the graph imports opset {versions}, the head is written for {opset}")

    nodes: List = []
    inits: List = []
    count = [0]

    def value() -> str:
        count[0] += 1
        return f"head.{count[0]}"

    def const(array: np.ndarray) -> str:
        name = value()
        inits.append(numpy_helper.from_array(array, name))
        return name

    def node(op: str, inputs: List[str], **attrs) -> str:
        out = value()
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def node2(op: str, inputs: List[str], **attrs):
        outs = [value(), value()]
        nodes.append(helper.make_node(op, inputs, outs, **attrs))
        return outs

    i64 = lambda *v: const(np.array(v, np.int64))  # noqa: E731
    f32 = lambda v: const(np.array(v, np.float32))  # noqa: E731
    axis0, last = i64(0), i64(-1)

    def setting(i: int) -> str:  # draw_settings[i] as a [1] tensor (broadcasts over [images, T, V])
        return node("Slice", [SETTINGS, i64(i), i64(i + 1), axis0])

    # 1. the rows: cond = [0, images), uncond = [B - images, B) (= cond when B == images)
    images = node("Slice", [node("Shape", [UNIFORMS]), i64(0), i64(1), axis0])
    logits_shape = node("Shape", ["logits"])
    rows = node("Slice", [logits_shape, i64(0), i64(1), axis0])
    vocab = node("Slice", [logits_shape, i64(2), i64(3), axis0])
    cond = node("Slice", ["logits", i64(0), images, axis0])
    uncond = node("Slice", ["logits", node("Sub", [rows, images]), rows, axis0])
    guided = node("Add", [uncond, node("Mul", [setting(0), node("Sub", [cond, uncond])])])
    l = node("Where", [node("Greater", [setting(1), f32(0.5)]), guided, cond])
    z = node("Div", [l, setting(2)])
    e = node("Exp", [node("Sub", [z, node("ReduceMax", [z], axes=[-1], keepdims=1)])])
    total_e = node("ReduceSum", [e, last], keepdims=0)  # [images, T]
    # 2. ranks: TopK over k' = k when 0 < k < V, else all V for top-p; with neither filter one
    # rank (an O(V) pass instead of a sort) whose mask step 3 then replaces by all ones
    k = TOP_K
    top_p = setting(3)
    k_on = node("And", [node("Greater", [k, i64(0)]), node("Less", [k, vocab])])
    p_on = node("Less", [top_p, f32(1.0)])
    filtered = node("Or", [k_on, p_on])
    ranks = node("Where", [k_on, k, node("Where", [p_on, vocab, i64(1)])])
    ranked, ranked_ids = node2("TopK", [e, ranks], axis=-1, largest=1, sorted=1)
    # 3. top-p: the mass before each rank over the kept mass, below topP (topP >= 1: a limit of 2)
    limit = node("Where", [p_on, top_p, f32(2.0)])
    before = node("Div", [node("CumSum", [ranked, const(np.array(-1, np.int64))], exclusive=1),
                          node("ReduceSum", [ranked, last], keepdims=1)])
    keep_rank = node("Cast", [node("Less", [before, limit])], to=TensorProto.FLOAT)
    zeros = node("ConstantOfShape", [node("Shape", [e])], value=numpy_helper.from_array(np.zeros(1, np.float32)))
    keep = node("Where", [filtered, node("ScatterElements", [zeros, ranked_ids, keep_rank], axis=-1), f32(1.0)])
    # 4. inverse CDF over the kept ids in id order
    cum = node("CumSum", [node("Mul", [e, keep]), const(np.array(-1, np.int64))])
    total = node("Slice", [cum, i64(-1), i64(np.iinfo(np.int64).max), last])  # [images, T, 1]
    target = node("Mul", [node("Unsqueeze", [UNIFORMS, last]), total])
    hit = node("Cast", [node("Greater", [cum, target])], to=TensorProto.FLOAT)
    first = node("ArgMax", [hit], axis=-1, keepdims=0)
    found = node("Greater", [node("ReduceMax", [hit], axes=[-1], keepdims=0), f32(0.5)])
    ids = node("Range", [f32(0.0), node("Cast", [node("Squeeze", [vocab, axis0])], to=TensorProto.FLOAT), f32(1.0)])
    last_kept = node("ArgMax", [node("Mul", [keep, ids])], axis=-1, keepdims=0)
    token = node("Where", [found, first, last_kept])
    # NaN (or a zero sum: impossible for finite logits) marks the slot -1; NaN >= 1 is false
    nodes.append(helper.make_node("Where", [node("GreaterOrEqual", [total_e, f32(1.0)]), token, i64(-1)], [TOKENS]))

    head_inputs = [
        helper.make_tensor_value_info(UNIFORMS, TensorProto.FLOAT, ["images", "step"]),
        helper.make_tensor_value_info(SETTINGS, TensorProto.FLOAT, [4]),
        helper.make_tensor_value_info(TOP_K, TensorProto.INT64, [1]),
    ]
    head_output = helper.make_tensor_value_info(TOKENS, TensorProto.INT64, ["images", "step"])
    # Checked on its own (logits as an input): the fused step graph holds onnxruntime's contrib
    # operators, which onnx's checker does not know.
    alone = helper.make_graph(nodes, "sampling-head", [outputs["logits"], *head_inputs], [head_output], inits)
    onnx.checker.check_model(helper.make_model(alone, opset_imports=[helper.make_opsetid("", opset)]), full_check=True)
    g.node.extend(nodes)
    g.initializer.extend(inits)
    g.input.extend(head_inputs)
    g.output.append(head_output)
    return proto


def add_sampling_head_file(path: str) -> None:
    """Append the head to the graph at ``path`` in place (external weights stay where they are)."""
    import onnx

    proto = onnx.load(path, load_external_data=False)
    add_sampling_head(proto)
    tmp = path + ".head.tmp"
    onnx.save(proto, tmp)
    os.replace(tmp, path)
