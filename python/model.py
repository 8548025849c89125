"""A class-conditional GPT whose parameters load LlamaGen (c2i) and PAR checkpoints unchanged.

Parameter names and shapes follow the public releases:
``tok_embeddings``, ``cls_embedding.embedding_table`` (classes + 1 rows: the last is the null
class for classifier-free guidance), ``spe_tok_embeddings.special_embeddings`` (PAR's transition
tokens; absent when there are none, as in LlamaGen), ``layers.<i>.attention.wqkv|wo``,
``layers.<i>.feed_forward.w1|w2|w3`` (SwiGLU), ``layers.<i>.attention_norm|ffn_norm`` (RMSNorm),
``norm``, ``output``; optional grouped key/value heads.

Unlike the originals, one ``forward`` serves training and cached decoding: the caller passes
token ids in one id space, a flat cell index per slot (-1: no position), an explicit boolean
attention mask and the past keys/values. That is the ONNX step contract (see python/export.py);
order, positions and masks are the schedule's business (python/layout.py). Attention is written
out (no ``scaled_dot_product_attention``) so it runs and exports on torch 1.13 and 2.x alike.

Id space: image tokens ``[0, V)``; class c -> ``V + c``; null class -> ``V + C``; transition
token k (1-based) -> ``V + C + k``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rope import apply_rope, rope_split_3d, rope_table, rope_table_3d

KV = Tuple[torch.Tensor, torch.Tensor]


def find_multiple(n: int, k: int) -> int:
    """Round n up to a multiple of k (the SwiGLU hidden-size rounding of LlamaGen)."""
    return n if n % k == 0 else n + k - (n % k)


def swiglu_hidden(dim: int, multiple_of: int = 256, ffn_dim_multiplier: Optional[float] = None) -> int:
    """SwiGLU hidden width as LlamaGen computes it: int(2 * 4 * dim / 3), optionally scaled, rounded up."""
    hidden = int(2 * (4 * dim) / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return find_multiple(hidden, multiple_of)


@dataclass
class GPTConfig:
    """Model geometry. ``transition_tokens`` = PAR's ``spe_token_num`` (n - 1; 0 for raster)."""

    vocab_size: int
    num_classes: int
    dim: int
    n_layer: int
    n_head: int
    n_kv_head: Optional[int] = None
    transition_tokens: int = 0
    height: int = 24
    width: int = 24
    multiple_of: int = 256
    ffn_dim_multiplier: Optional[float] = None
    ffn_hidden: Optional[int] = None  # explicit override (conversion infers it from w1's shape)
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    token_dropout: float = 0.0
    resid_dropout: float = 0.0
    ffn_dropout: float = 0.0
    frames: int = 1  # > 1: a video model over frames x height x width cells, with 3D RoPE

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_head

    @property
    def kv_heads(self) -> int:
        return self.n_kv_head if self.n_kv_head is not None else self.n_head

    @property
    def hidden(self) -> int:
        if self.ffn_hidden is not None:
            return self.ffn_hidden
        return swiglu_hidden(self.dim, self.multiple_of, self.ffn_dim_multiplier)

    def validate(self) -> "GPTConfig":
        if self.dim % self.n_head != 0:
            raise ValueError(f"dim {self.dim} is not divisible by n_head {self.n_head}")
        if self.n_head % self.kv_heads != 0:
            raise ValueError(f"n_head {self.n_head} is not divisible by n_kv_head {self.kv_heads}")
        if self.head_dim % 4 != 0:
            raise ValueError(f"head_dim {self.head_dim} must be a multiple of 4 (2D RoPE)")
        if self.frames < 1:
            raise ValueError(f"frames {self.frames} must be a positive integer (1 for images)")
        if self.frames > 1:
            rope_split_3d(self.head_dim)  # raises when the head is too small to split
        return self

    def rope_spec(self) -> dict:
        """The positional table's layout as the manifest records it: ``kind`` 2d (images, the
        LlamaGen/PAR table) or 3d (video), and ``split``, the rotary pairs per coordinate."""
        if self.frames == 1:
            return {"kind": "2d", "split": [self.head_dim // 4, self.head_dim // 4]}
        return {"kind": "3d", "split": list(rope_split_3d(self.head_dim))}

    def position_table(self):
        """The RoPE table of this geometry: 2D for one frame (unchanged), 3D for a clip."""
        if self.frames == 1:
            return rope_table(self.height, self.width, self.head_dim, self.rope_base)
        return rope_table_3d(self.frames, self.height, self.width, self.head_dim, self.rope_base)

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        y = xf * torch.rsqrt(torch.mean(xf * xf, dim=-1, keepdim=True) + self.eps)
        return y.type_as(x) * _w(self.weight, x)


def _w(weight: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The weight in the activations' dtype: fp16-stored weights are cast up in-graph."""
    return weight if weight.dtype == like.dtype else weight.to(like.dtype)


def _linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    return F.linear(x, _w(layer.weight, x))


class LabelEmbedder(nn.Module):
    """Class embedding table with the extra null-class row (``cls_embedding.embedding_table``)."""

    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + 1, dim)


class SpecialTokenEmbedding(nn.Module):
    """PAR's transition tokens (``spe_tok_embeddings.special_embeddings``)."""

    def __init__(self, count: int, dim: int):
        super().__init__()
        self.special_embeddings = nn.Embedding(count, dim)


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head, self.n_kv, self.head_dim = cfg.n_head, cfg.kv_heads, cfg.head_dim
        self.wqkv = nn.Linear(cfg.dim, (cfg.n_head + 2 * cfg.kv_heads) * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.resid_dropout = nn.Dropout(cfg.resid_dropout)

    def forward(
        self, x: torch.Tensor, cos_sin: torch.Tensor, mask: torch.Tensor, past: Optional[KV]
    ) -> Tuple[torch.Tensor, KV]:
        b, t = x.shape[0], x.shape[1]
        qd, kd = self.n_head * self.head_dim, self.n_kv * self.head_dim
        q, k, v = _linear(x, self.wqkv).split([qd, kd, kd], dim=-1)
        q = apply_rope(q.reshape(b, t, self.n_head, self.head_dim), cos_sin).transpose(1, 2)
        k = apply_rope(k.reshape(b, t, self.n_kv, self.head_dim), cos_sin).transpose(1, 2)
        v = v.reshape(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        if self.n_kv != self.n_head:  # head h uses kv head h // rep, as repeat_interleave does
            rep = self.n_head // self.n_kv
            k = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).flatten(1, 2)
            v = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).flatten(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        scores = scores.float().masked_fill(~mask, torch.finfo(torch.float32).min)
        probs = torch.softmax(scores, dim=-1).type_as(q)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, qd)
        return self.resid_dropout(_linear(out, self.wo)), present


class FeedForward(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.w1 = nn.Linear(cfg.dim, cfg.hidden, bias=False)
        self.w3 = nn.Linear(cfg.dim, cfg.hidden, bias=False)
        self.w2 = nn.Linear(cfg.hidden, cfg.dim, bias=False)
        self.ffn_dropout = nn.Dropout(cfg.ffn_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ffn_dropout(_linear(F.silu(_linear(x, self.w1)) * _linear(x, self.w3), self.w2))


class TransformerBlock(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.attention = Attention(cfg)
        self.feed_forward = FeedForward(cfg)
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)

    def forward(self, x, cos_sin, mask, past: Optional[KV]):
        a, present = self.attention(self.attention_norm(x), cos_sin, mask, past)
        h = x + a
        return h + self.feed_forward(self.ffn_norm(h)), present


class GPT(nn.Module):
    """LlamaGen/PAR-compatible transformer with an explicit-mask, explicit-position step API.

    Example::

        model = GPT(GPTConfig(vocab_size=1024, num_classes=8, dim=64, n_layer=2, n_head=4))
        logits, presents = model(ids, positions, mask)  # training: no past
    """

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg.validate()
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.cls_embedding = LabelEmbedder(cfg.num_classes, cfg.dim)
        if cfg.transition_tokens > 0:
            self.spe_tok_embeddings = SpecialTokenEmbedding(cfg.transition_tokens, cfg.dim)
        self.tok_dropout = nn.Dropout(cfg.token_dropout)
        self.layers = nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg.n_layer)])
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.output = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        # Not persistent: checkpoints carry no RoPE table (theirs is a plain attribute).
        self.register_buffer("rope", cfg.position_table(), persistent=False)
        self.reset_parameters()

    def reset_parameters(self, std: float = 0.02) -> None:
        """LlamaGen's initialisation: normal(0, 0.02) for linears and embeddings, zero output head."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=std)
        nn.init.zeros_(self.output.weight)

    # --- id space ---------------------------------------------------------------------------
    @property
    def class_offset(self) -> int:
        return self.config.vocab_size

    @property
    def null_class_id(self) -> int:
        return self.config.vocab_size + self.config.num_classes

    def transition_id(self, k: int) -> int:
        """Id of transition token k (1-based)."""
        return self.config.vocab_size + self.config.num_classes + k

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Embed ids of the shared id space; three gathers and a select (cheap, ONNX friendly)."""
        cfg = self.config
        v, c = cfg.vocab_size, cfg.num_classes
        tok = F.embedding(input_ids.clamp(0, v - 1), self.tok_embeddings.weight)
        cls = F.embedding((input_ids - v).clamp(0, c), self.cls_embedding.embedding_table.weight)
        h = torch.where((input_ids < v).unsqueeze(-1), tok, cls)
        if cfg.transition_tokens > 0:
            spe_w = self.spe_tok_embeddings.special_embeddings.weight
            spe = F.embedding((input_ids - v - c - 1).clamp(0, cfg.transition_tokens - 1), spe_w)
            h = torch.where((input_ids > v + c).unsqueeze(-1), spe, h)
        return h.float()

    def forward(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        past: Optional[List[KV]] = None,
    ) -> Tuple[torch.Tensor, List[KV]]:
        """One pass over T new slots after P cached ones.

        input_ids, position_ids: int64 [B, T] (position = flat cell index, -1 = none);
        attention_mask: bool [B or 1, 1, T, P + T] (true = may attend);
        past: per layer (key, value) [B, Hkv, P, D] or None. Returns logits float32 [B, T, V]
        and the presents [B, Hkv, P + T, D].
        """
        h = self.tok_dropout(self.embed(input_ids))
        cos_sin = F.embedding(position_ids + 1, self.rope.flatten(1)).reshape(
            position_ids.shape[0], position_ids.shape[1], -1, 2
        )
        presents: List[KV] = []
        for i, layer in enumerate(self.layers):
            h, present = layer(h, cos_sin, attention_mask, None if past is None else past[i])
            presents.append(present)
        logits = _linear(self.norm(h), self.output).float()
        return logits, presents


def load_state_dict_strict(model: GPT, state: dict) -> None:
    """Load a state dict, failing with a message that names missing, unexpected and misshaped keys."""
    own = model.state_dict()
    missing = sorted(k for k in own if k not in state)
    unexpected = sorted(k for k in state if k not in own)
    misshaped = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    )
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if misshaped:
        problems.append("shape mismatches: " + "; ".join(misshaped))
    if problems:
        raise ValueError("state dict does not fit the model: " + " | ".join(problems))
    model.load_state_dict({k: state[k] for k in own}, strict=True)
