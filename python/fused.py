"""A fused step graph: the same step contract as python/export.py, written node by node.

``torch.onnx.export`` traces the PyTorch module op by op: RMSNorm as seven elementwise ops, RoPE
as reshapes, slices and a concat, attention as matmuls, a masked fill, a softmax and transposes,
the embedding as three gathers and two selects: 508 nodes for a 4-layer model (Constants not
counted), each a kernel launch with its own allocation, which on a small model costs more than
the arithmetic. This module builds the graph directly from a GPT's weights with onnxruntime's fused operators:

- embedding: one ``Gather`` from one table (image tokens, classes + null, transition tokens
  stacked in id order, so the id space needs no arithmetic);
- norms: ``SimplifiedLayerNormalization`` (RMSNorm) and ``SkipSimplifiedLayerNormalization``
  (the residual add fused into the next norm);
- attention: ``com.microsoft.RotaryEmbedding`` (interleaved pairs, position ids + 1 index the
  exact RoPE table, row 0 the zero row) and ``com.microsoft.MultiHeadAttention`` with the past
  keys/values in and the grown cache out, the contract's boolean mask as an additive bias;
- SwiGLU: one ``MatMul`` for w1 and w3 side by side, then ``Split``, ``Sigmoid`` and two ``Mul``.

81 nodes for the same model with MultiHeadAttention, 129 with the split layout below. Every graph also returns ``new.<i>.key|value`` [B, H, T, D], this step's
keys and values alone. Why: onnxruntime-node copies every fetched output into a fresh JavaScript
buffer, so fetching the whole grown cache (``present.*``) costs two passes over it per step,
measured as 60% of a step at 570 cached slots for a 256-wide model. A backend that keeps the
cache in its own buffers fetches only ``new.*`` and feeds a past padded to a capacity, the
padding masked off (src/model/kv_arena.ts).

Two attention layouts:
- ``attention="split"`` (the CPU's): scores against the past and against the new slots apart,
  one softmax over both, no copy of the cache at all; the graph has no ``present.*`` outputs
  (manifest ``cache: "new"``), so only backends that keep the cache themselves (onnxruntime-node)
  run it. At 16 rows and 576 cached slots a step took 5.5 ms against MultiHeadAttention's 9.1.
- ``attention="mha"``: ``com.microsoft.MultiHeadAttention`` with the past in and the grown cache
  out (``present.*``, the step contract's), for backends that keep the cache on a device
  (WebGPU, CUDA).

Options: ``compute="float16"`` (weights, activations and the KV cache in fp16, logits cast to
fp32: the GPU backends' half-precision graphs; onnxruntime's CPU provider runs them only through
casts around the operators it has no fp16 kernels for, measured 6x slower than fp32 at batch 8) and ``quantize`` 8 or 4 (``com.microsoft.MatMulNBits`` with block-wise
symmetric weights for every linear layer except the output head: the CPU's optional quantized
graphs). Grouped key/value heads are not supported (PAR and LlamaGen's c2i models have none);
those models keep the traced export.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .export import io_names
from .model import GPT

MS = "com.microsoft"
DTYPES = {"float32": (np.float32, TensorProto.FLOAT), "float16": (np.float16, TensorProto.FLOAT16)}


class _Builder:
    """Collects nodes and initializers; names intermediate values v0, v1, ..."""

    def __init__(self, np_dtype, storage):
        self.storage = storage
        self.nodes: List[onnx.NodeProto] = []
        self.inits: List[onnx.TensorProto] = []
        self.np_dtype = np_dtype
        self.count = 0

    def value(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def init(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def weight(self, name: str, array: np.ndarray) -> str:
        """A weight in the compute dtype; fp16-stored weights of an fp32 graph get a Cast, which
        onnxruntime folds at session creation (the file stays half the size)."""
        if self.storage == np.float16 and self.np_dtype == np.float32:
            stored = self.init(name, array.astype(np.float16))
            return self.node("Cast", [stored], to=TensorProto.FLOAT)[0]
        return self.init(name, array.astype(self.np_dtype))

    def node(self, op: str, inputs: List[str], n_out: int = 1, outputs: Optional[List[str]] = None,
             domain: str = "", **attrs) -> List[str]:
        outs = outputs if outputs is not None else [self.value() for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, domain=domain or None, **attrs))
        return outs


def quantize_blockwise(w: np.ndarray, bits: int, block: int):
    """Symmetric block-wise quantization of a ``[K, N]`` matmul weight for ``MatMulNBits``.

    Per output column and block of ``block`` input rows: scale = max |w| / (2^(bits-1) - 1),
    q = round(w / scale) + 2^(bits-1) in [1, 2^bits - 1] (the operator's default zero point is
    2^(bits-1)). Returns (packed uint8 [N, blocks, block * bits / 8], scales [N * blocks] float32,
    the dequantized weight [K, N] for measuring the error).
    """
    k, n = w.shape
    blocks = -(-k // block)
    padded = np.zeros((blocks * block, n), np.float32)
    padded[:k] = w
    wb = padded.T.reshape(n, blocks, block)  # [N, blocks, block]
    zero = 1 << (bits - 1)
    scale = np.abs(wb).max(axis=2) / (zero - 1)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(wb / scale[..., None]) + zero, 0, (1 << bits) - 1).astype(np.uint8)
    deq = ((q.astype(np.float32) - zero) * scale[..., None]).reshape(n, blocks * block).T[:k]
    if bits == 4:
        q = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return q, scale.astype(np.float32).reshape(-1), deq


def split_attention(b: _Builder, q: str, key: str, value: str, i: int, bias: str, splits: str, bhsd: str,
                    dim: int, hd: int) -> str:
    """Attention over the past and this step's slots without concatenating the cache.

    ``MultiHeadAttention`` copies past + new into a fresh present buffer every step (a pass over
    the whole cache, and an allocation); here the scores of the past (``past.<i>.key`` as fed)
    and of the new slots are computed apart and only they are concatenated ([B, H, T, P + T],
    head-width times smaller than the keys), one softmax, and the two value products added. The
    grown cache is not an output: onnxruntime runs every node whether its output is fetched or
    not, and a Concat of the cache would cost the pass this saves (measured).
    """
    scale = 1.0 / float(np.sqrt(hd))
    qh = b.node("Transpose", [b.node("Reshape", [q, bhsd])[0]], perm=[0, 2, 1, 3])[0]
    past_k, past_v = f"past.{i}.key", f"past.{i}.value"
    s_past = b.node("FusedMatMul", [qh, past_k], domain=MS, transB=1, alpha=scale)[0]
    s_new = b.node("FusedMatMul", [qh, key], domain=MS, transB=1, alpha=scale)[0]
    scores = b.node("Add", [b.node("Concat", [s_past, s_new], axis=-1)[0], bias])[0]
    probs = b.node("Softmax", [scores], axis=-1)[0]
    p_past, p_new = b.node("Split", [probs, splits], n_out=2, axis=-1)
    out = b.node("Add", [b.node("MatMul", [p_past, past_v])[0], b.node("MatMul", [p_new, value])[0]])[0]
    merged = b.node("Transpose", [out], perm=[0, 2, 1, 3])[0]
    return b.node("Reshape", [merged, b.init(f"shape.merge.{i}", np.array([0, 0, dim], np.int64))])[0]


def build_fused(model: GPT, compute: str = "float32", weights: str = "float32", quantize: Optional[int] = None,
                block: int = 32, accuracy_level: int = 0, attention: str = "mha") -> onnx.ModelProto:
    """The fused step graph of ``model`` (see the module doc). Inputs and outputs are the step
    contract's; with ``compute="float16"`` the past/present caches are fp16 (logits stay fp32).
    ``weights="float16"`` stores fp32-compute weights as fp16 (rounded; cast up in the graph)."""
    cfg = model.config
    if cfg.kv_heads != cfg.n_head:
        raise ValueError("fused export: grouped key/value heads are not supported; use python.export")
    if compute not in DTYPES:
        raise ValueError(f'compute must be "float32" or "float16", got {compute!r}')
    if quantize not in (None, 4, 8):
        raise ValueError(f"quantize must be 4 or 8 bits, got {quantize!r}")
    if attention not in ("mha", "split"):
        raise ValueError(f'attention must be "mha" or "split", got {attention!r}')
    if weights not in DTYPES:
        raise ValueError(f'weights must be "float32" or "float16", got {weights!r}')
    if compute == "float16":
        weights = "float16"
    if quantize and compute != "float32":
        raise ValueError("quantize: the quantized graphs are for the CPU and compute in float32")
    np_dtype, onnx_dtype = DTYPES[compute]
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    b = _Builder(np_dtype, DTYPES[weights][0])
    n_head, hd, dim = cfg.n_head, cfg.head_dim, cfg.dim
    eps = float(cfg.norm_eps)

    def linear(x: str, name: str, w: np.ndarray) -> str:
        """x @ w for a torch ``[out, in]`` weight; MatMulNBits when quantizing."""
        wt = w.T  # [in, out]
        if not quantize:
            return b.node("MatMul", [x, b.weight(name, wt)])[0]
        packed, scales, _ = quantize_blockwise(wt, quantize, block)
        return b.node("MatMulNBits", [x, b.init(name + ".q", packed), b.init(name + ".scales", scales)],
                      domain=MS, K=wt.shape[0], N=wt.shape[1], bits=quantize, block_size=block,
                      accuracy_level=accuracy_level)[0]

    # Embedding: one table in id order (tokens, classes + null, transition tokens).
    tables = [sd["tok_embeddings.weight"], sd["cls_embedding.embedding_table.weight"]]
    if cfg.transition_tokens > 0:
        tables.append(sd["spe_tok_embeddings.special_embeddings.weight"])
    table = b.weight("embeddings", np.concatenate(tables, axis=0))
    h = b.node("Gather", [table, "input_ids"], axis=0)[0]

    # RoPE: position + 1 indexes the table (row 0: no position, cos = sin = 0).
    rope = model.rope.float().cpu().numpy()  # [1 + cells, D/2, 2]
    # the exact table in the compute dtype (fp16-stored weights do not round it, as in export.py)
    cos = b.init("rope.cos", rope[..., 0].astype(np_dtype))
    sin = b.init("rope.sin", rope[..., 1].astype(np_dtype))
    one = b.init("one", np.array(1, np.int64))
    pos = b.node("Add", ["position_ids", one])[0]

    # The boolean mask as an additive bias, shared by every layer.
    neg = np.finfo(np_dtype).min
    bias = b.node("Where", ["attention_mask", b.init("zero", np.zeros((), np_dtype)),
                            b.init("masked", np.array(neg, np_dtype))])[0]

    inputs, outputs = io_names(cfg.n_layer)
    bhsd = b.init("shape.heads", np.array([0, 0, n_head, hd], np.int64))
    # [P, T]: how the score columns split into past and new slots (split attention)
    splits = b.node("Concat", [b.node("Shape", ["past.0.key"], start=2, end=3)[0],
                               b.node("Shape", ["input_ids"], start=1, end=2)[0]], axis=0)[0]
    ffn = None  # the previous layer's feed-forward output, fused into the next norm's skip add
    for i in range(cfg.n_layer):
        p = f"layers.{i}."
        w_norm = b.weight(p + "attention_norm.weight", sd[p + "attention_norm.weight"])
        if ffn is None:
            x = b.node("SimplifiedLayerNormalization", [h, w_norm], axis=-1, epsilon=eps, stash_type=1)[0]
        else:
            x, _, _, h = b.node("SkipSimplifiedLayerNormalization", [h, ffn, w_norm], n_out=4,
                                domain=MS, epsilon=eps)
        qkv = linear(x, p + "attention.wqkv.weight", sd[p + "attention.wqkv.weight"])
        q, k, v = b.node("Split", [qkv, b.init(p + "split.qkv", np.array([dim] * 3, np.int64))], n_out=3,
                         axis=-1)
        q = b.node("RotaryEmbedding", [q, pos, cos, sin], domain=MS, interleaved=1, num_heads=n_head)[0]
        k = b.node("RotaryEmbedding", [k, pos, cos, sin], domain=MS, interleaved=1, num_heads=n_head)[0]
        # This step's keys and values alone, [B, H, T, D]: a backend that keeps the cache itself
        # fetches these instead of the whole grown cache (see the module doc).
        fresh = {}
        for part, x in (("key", k), ("value", v)):
            heads = b.node("Reshape", [x, bhsd])[0]
            fresh[part] = b.node("Transpose", [heads], outputs=[f"new.{i}.{part}"], perm=[0, 2, 1, 3])[0]
        if attention == "mha":
            attn = b.node("MultiHeadAttention", [q, k, v, "", "", bias, f"past.{i}.key", f"past.{i}.value"],
                          outputs=[b.value(), f"present.{i}.key", f"present.{i}.value"], domain=MS,
                          num_heads=n_head, scale=1.0 / float(np.sqrt(hd)))[0]
        else:
            attn = split_attention(b, q, fresh["key"], fresh["value"], i, bias, splits, bhsd, dim, hd)
        o = linear(attn, p + "attention.wo.weight", sd[p + "attention.wo.weight"])
        w_ffn = b.weight(p + "ffn_norm.weight", sd[p + "ffn_norm.weight"])
        x, _, _, h = b.node("SkipSimplifiedLayerNormalization", [h, o, w_ffn], n_out=4, domain=MS, epsilon=eps)
        w13 = np.concatenate([sd[p + "feed_forward.w1.weight"], sd[p + "feed_forward.w3.weight"]], axis=0)
        gate_up = linear(x, p + "feed_forward.w13.weight", w13)
        hidden = cfg.hidden
        gate, up = b.node("Split", [gate_up, b.init(p + "split.w13", np.array([hidden, hidden], np.int64))],
                          n_out=2, axis=-1)
        silu = b.node("Mul", [gate, b.node("Sigmoid", [gate])[0]])[0]
        ffn = linear(b.node("Mul", [silu, up])[0], p + "feed_forward.w2.weight", sd[p + "feed_forward.w2.weight"])
    w_norm = b.weight("norm.weight", sd["norm.weight"])
    x = b.node("SkipSimplifiedLayerNormalization", [h, ffn, w_norm], n_out=1, domain=MS, epsilon=eps)[0]
    head = b.node("MatMul", [x, b.weight("output.weight", sd["output.weight"].T)])[0]
    if compute == "float32":
        b.node("Identity", [head], outputs=["logits"])
    else:
        b.node("Cast", [head], outputs=["logits"], to=TensorProto.FLOAT)

    kv = ["batch", n_head, "past", hd]
    graph_inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "step"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "step"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.BOOL, ["batch", 1, "step", "total"]),
    ] + [helper.make_tensor_value_info(n, onnx_dtype, kv) for n in inputs[3:]]
    graph_outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "step", cfg.vocab_size])]
    if attention == "mha":
        graph_outputs += [helper.make_tensor_value_info(n, onnx_dtype, ["batch", n_head, "total", hd])
                          for n in outputs[1:]]
    graph_outputs += [helper.make_tensor_value_info(f"new.{i}.{part}", onnx_dtype, ["batch", n_head, "step", hd])
                      for i in range(cfg.n_layer) for part in ("key", "value")]
    graph = helper.make_graph(b.nodes, "parlab-fused-step", graph_inputs, graph_outputs, b.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)],
                              producer_name="parlab python/fused.py")
    proto.ir_version = 8
    return proto


def export_fused(model: GPT, path: str, compute: str = "float32", weights: str = "float32",
                 quantize: Optional[int] = None, block: int = 32, accuracy_level: int = 0,
                 attention: str = "mha") -> str:
    """Write the fused step graph of ``model`` to ``path`` (atomically); returns the path."""
    proto = build_fused(model, compute=compute, weights=weights, quantize=quantize, block=block,
                        accuracy_level=accuracy_level, attention=attention)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    onnx.save(proto, tmp)
    os.replace(tmp, path)
    return path


def node_counts(path: str) -> Dict[str, int]:
    """Operator histogram of an ONNX file (for the README's profile)."""
    g = onnx.load(path, load_external_data=False).graph
    out: Dict[str, int] = {}
    for n in g.node:
        out[n.op_type] = out.get(n.op_type, 0) + 1
    return out
