"""LlamaGen's VQ image tokenizer (``VQModel``), parameter-compatible with its released checkpoints.

Module tree and state-dict keys follow ``tokenizer/tokenizer_image/vq_model.py`` of LlamaGen (and
of PAR, which uses it unchanged), so ``vq_ds16_c2i.pt`` (state dict under ``model``) loads with
no renaming:

- ``encoder``: ``conv_in`` (3x3, 3 -> ch); per level i ``conv_blocks.<i>.res.<j>`` (j < 2:
  ``norm1, conv1, norm2, conv2`` and ``nin_shortcut`` (1x1) where the width changes),
  ``conv_blocks.<i>.attn.<j>`` on the last level only (``norm, q, k, v, proj_out``, all 1x1),
  ``conv_blocks.<i>.downsample.conv`` (3x3 stride 2 after a (0,1,0,1) zero pad) on all but the
  last level; ``mid.0`` res, ``mid.1`` attn, ``mid.2`` res; ``norm_out``; ``conv_out`` (-> z).
- ``decoder``: ``conv_in`` (z -> ch * ch_mult[-1]); ``mid.0/1/2``; ``conv_blocks.<j>`` for the
  levels in reverse (j = 0 is the deepest), 3 res blocks each, attn on j = 0, and
  ``upsample.conv`` (nearest x2 then 3x3) on all but the last; ``norm_out``; ``conv_out`` (-> 3).
- ``quant_conv`` (1x1, z -> embed dim), ``post_quant_conv`` (1x1, embed dim -> z),
  ``quantize.embedding.weight`` [codebook size, embed dim] and, when the checkpoint was trained
  with usage tracking (LlamaGen's default), the buffer ``quantize.codebook_used`` [65536].

Normalisation is GroupNorm(32 groups, eps 1e-6, affine), the non-linearity swish ``x * sigmoid(x)``,
attention a single head over all positions scaled by ``channels ** -0.5``. Quantisation
l2-normalises both the encoder vectors and the codebook (``x / max(||x||, 1e-12)``), takes
``d = |z|^2 + |e|^2 - 2 z.e`` and the first index of its minimum. VQ-16 (``ch_mult``
(1,1,2,2,4), downsample 16) has 71.9M parameters; VQ-8 ((1,2,2,4), downsample 8) 70.1M (counts
in python/README.md).

Every weight goes through ``_w`` (cast to the activations' dtype), so a model whose parameters
are stored in float16 still computes in float32: that is how the ONNX export stores fp16 weights.
"""
from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

NORM_GROUPS = 32
NORM_EPS = 1e-6
USAGE_BUFFER = 65536  # LlamaGen's codebook_used length


class VqError(Exception):
    """A user error about a VQ checkpoint or tokenizer: printed without a stack trace."""


@dataclass
class VQConfig:
    """Geometry of a LlamaGen VQ tokenizer. ``ch`` and ``num_res_blocks`` are fixed (128, 2) in
    LlamaGen's ``ModelArgs``; they are free here so a small same-architecture tokenizer can exist."""

    codebook_size: int = 16384
    codebook_embed_dim: int = 8
    codebook_l2_norm: bool = True
    codebook_show_usage: bool = True
    encoder_ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2, 2, 4])
    decoder_ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2, 2, 4])
    z_channels: int = 256
    ch: int = 128
    num_res_blocks: int = 2
    in_channels: int = 3
    out_channels: int = 3

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.encoder_ch_mult) - 1)

    def validate(self) -> "VQConfig":
        if len(self.encoder_ch_mult) != len(self.decoder_ch_mult):
            raise VqError(
                f"encoder has {len(self.encoder_ch_mult)} levels but decoder {len(self.decoder_ch_mult)}:"
                " the decoder must upsample as much as the encoder downsamples"
            )
        for name, mult in (("encoder_ch_mult", self.encoder_ch_mult), ("decoder_ch_mult", self.decoder_ch_mult)):
            for m in [1] + list(mult):
                if (self.ch * m) % NORM_GROUPS:
                    raise VqError(f"width ch*{m} = {self.ch * m} ({name}) is not a multiple of {NORM_GROUPS}"
                                  " (GroupNorm groups)")
        if self.z_channels % NORM_GROUPS:
            raise VqError(f"z_channels {self.z_channels} is not a multiple of {NORM_GROUPS}")
        return self

    def to_dict(self) -> Dict:
        d = asdict(self)
        d["downsample"] = self.downsample
        return d

    @staticmethod
    def from_dict(d: Dict) -> "VQConfig":
        keys = VQConfig.__dataclass_fields__.keys()
        return VQConfig(**{k: v for k, v in d.items() if k in keys})


def vq_16(**kw) -> VQConfig:
    """LlamaGen's ``VQ_16``: ch_mult (1,1,2,2,4), downsample 16 (``vq_ds16_c2i.pt``)."""
    return VQConfig(encoder_ch_mult=[1, 1, 2, 2, 4], decoder_ch_mult=[1, 1, 2, 2, 4], **kw)


def vq_8(**kw) -> VQConfig:
    """LlamaGen's ``VQ_8``: ch_mult (1,2,2,4), downsample 8 (``vq_ds8_c2i.pt``)."""
    return VQConfig(encoder_ch_mult=[1, 2, 2, 4], decoder_ch_mult=[1, 2, 2, 4], **kw)


VQ_CONFIGS = {"VQ-16": vq_16, "VQ-8": vq_8}


# --- layers ---------------------------------------------------------------------------------

def _w(t: Optional[torch.Tensor], like: torch.Tensor) -> Optional[torch.Tensor]:
    if t is None or t.dtype == like.dtype:
        return t
    return t.to(like.dtype)


def _conv(layer: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, _w(layer.weight, x), _w(layer.bias, x), layer.stride, layer.padding)


def _norm(layer: nn.GroupNorm, x: torch.Tensor) -> torch.Tensor:
    return F.group_norm(x, layer.num_groups, _w(layer.weight, x), _w(layer.bias, x), layer.eps)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


def l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """``F.normalize(x, p=2, dim=-1)`` written out: x / max(||x||_2, 1e-12)."""
    return x / x.norm(p=2, dim=-1, keepdim=True).clamp_min(1e-12)


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=NORM_GROUPS, num_channels=channels, eps=NORM_EPS, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm1 = group_norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = group_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _conv(self.conv1, swish(_norm(self.norm1, x)))
        h = _conv(self.conv2, swish(_norm(self.norm2, h)))  # dropout: identity at inference
        if hasattr(self, "nin_shortcut"):
            x = _conv(self.nin_shortcut, x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.norm = group_norm(c)
        self.q = nn.Conv2d(c, c, 1, 1, 0)
        self.k = nn.Conv2d(c, c, 1, 1, 0)
        self.v = nn.Conv2d(c, c, 1, 1, 0)
        self.proj_out = nn.Conv2d(c, c, 1, 1, 0)
        self.scale = c ** (-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _norm(self.norm, x)
        q = _conv(self.q, h).flatten(2).transpose(1, 2)  # [B, HW, C]
        k = _conv(self.k, h).flatten(2)  # [B, C, HW]
        v = _conv(self.v, h).flatten(2)  # [B, C, HW]
        w = torch.softmax(torch.matmul(q, k) * self.scale, dim=2)  # [B, HW(query), HW(key)]
        out = torch.matmul(v, w.transpose(1, 2)).reshape(x.shape)  # [B, C, HW(query)]
        return x + _conv(self.proj_out, out)


class Downsample(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _conv(self.conv, F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0))


class Upsample(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _conv(self.conv, F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    """One resolution level: ``res``, ``attn`` and optionally ``downsample`` / ``upsample``."""

    def __init__(self):
        super().__init__()
        self.res = nn.ModuleList()
        self.attn = nn.ModuleList()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.res):
            h = block(h)
            if len(self.attn) > 0:
                h = self.attn[i](h)
        if hasattr(self, "downsample"):
            h = self.downsample(h)
        if hasattr(self, "upsample"):
            h = self.upsample(h)
        return h


def _mid(c: int) -> nn.ModuleList:
    return nn.ModuleList([ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)])


class Encoder(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        ch, mult, levels = cfg.ch, list(cfg.encoder_ch_mult), len(cfg.encoder_ch_mult)
        self.conv_in = nn.Conv2d(cfg.in_channels, ch, 3, 1, 1)
        self.conv_blocks = nn.ModuleList()
        cin = ch
        for i in range(levels):
            level = Level()
            cout = ch * mult[i]
            for _ in range(cfg.num_res_blocks):
                level.res.append(ResnetBlock(cin, cout))
                cin = cout
                if i == levels - 1:
                    level.attn.append(AttnBlock(cin))
            if i != levels - 1:
                level.downsample = Downsample(cin)
            self.conv_blocks.append(level)
        self.mid = _mid(cin)
        self.norm_out = group_norm(cin)
        self.conv_out = nn.Conv2d(cin, cfg.z_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _conv(self.conv_in, x)
        for level in self.conv_blocks:
            h = level(h)
        for block in self.mid:
            h = block(h)
        return _conv(self.conv_out, swish(_norm(self.norm_out, h)))


class Decoder(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        ch, mult, levels = cfg.ch, list(cfg.decoder_ch_mult), len(cfg.decoder_ch_mult)
        cin = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, cin, 3, 1, 1)
        self.mid = _mid(cin)
        self.conv_blocks = nn.ModuleList()
        for i in reversed(range(levels)):
            level = Level()
            cout = ch * mult[i]
            for _ in range(cfg.num_res_blocks + 1):
                level.res.append(ResnetBlock(cin, cout))
                cin = cout
                if i == levels - 1:
                    level.attn.append(AttnBlock(cin))
            if i != 0:
                level.upsample = Upsample(cin)
            self.conv_blocks.append(level)
        self.norm_out = group_norm(cin)
        self.conv_out = nn.Conv2d(cin, cfg.out_channels, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = _conv(self.conv_in, z)
        for block in self.mid:
            h = block(h)
        for level in self.conv_blocks:
            h = level(h)
        return _conv(self.conv_out, swish(_norm(self.norm_out, h)))


class VectorQuantizer(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        self.l2_norm = cfg.codebook_l2_norm
        self.embedding = nn.Embedding(cfg.codebook_size, cfg.codebook_embed_dim)
        with torch.no_grad():  # LlamaGen's initialisation
            self.embedding.weight.uniform_(-1.0 / cfg.codebook_size, 1.0 / cfg.codebook_size)
            if self.l2_norm:
                self.embedding.weight.copy_(l2_normalize(self.embedding.weight))
        if cfg.codebook_show_usage:
            self.register_buffer("codebook_used", torch.zeros(USAGE_BUFFER))

    def codebook(self) -> torch.Tensor:
        """The codebook in float32 (l2-normalised rows when the config says so)."""
        e = self.embedding.weight
        e = e if e.dtype == torch.float32 else e.float()
        return l2_normalize(e) if self.l2_norm else e

    def distances(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, D] -> squared distances [N, K] to the (normalised) codes, LlamaGen's arithmetic."""
        e = self.codebook()
        if self.l2_norm:
            z = l2_normalize(z)
        return torch.sum(z ** 2, dim=1, keepdim=True) + torch.sum(e ** 2, dim=1) - 2 * torch.matmul(z, e.t())

    def codes(self, h: torch.Tensor) -> torch.Tensor:
        """h [B, D, H, W] (after quant_conv) -> code ids int64 [B, H, W]."""
        b, _, hh, ww = h.shape
        z = h.permute(0, 2, 3, 1).reshape(-1, h.shape[1])
        return torch.argmin(self.distances(z), dim=1).reshape(b, hh, ww)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """code ids [B, H, W] -> code vectors [B, D, H, W] (float32)."""
        return F.embedding(codes, self.codebook()).permute(0, 3, 1, 2)


class VQModel(nn.Module):
    """LlamaGen's VQ tokenizer (inference): ``encode`` pixels -> codes, ``decode`` codes -> pixels.

    Example::

        vq = VQModel(vq_16())
        codes = vq.encode(pixels)        # pixels float32 [B, 3, 384, 384] in [-1, 1] -> int64 [B, 24, 24]
        pixels = vq.decode(codes)        # float32 [B, 3, 384, 384], about [-1, 1] (not clamped)
    """

    def __init__(self, cfg: VQConfig):
        super().__init__()
        self.config = cfg.validate()
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantize = VectorQuantizer(cfg)
        self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.codebook_embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(cfg.codebook_embed_dim, cfg.z_channels, 1)

    def encode_latent(self, pixels: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] -> the pre-quantisation vectors [B, D, H/ds, W/ds]."""
        return _conv(self.quant_conv, self.encoder(pixels))

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.quantize.codes(self.encode_latent(pixels))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.decoder(_conv(self.post_quant_conv, self.quantize.lookup(codes)))

    def parameter_counts(self) -> Dict[str, int]:
        enc = sum(p.numel() for p in self.encoder.parameters()) + sum(p.numel() for p in self.quant_conv.parameters())
        dec = sum(p.numel() for p in self.decoder.parameters()) + sum(
            p.numel() for p in self.post_quant_conv.parameters())
        code = self.quantize.embedding.weight.numel()
        return {"encoder": enc, "decoder": dec, "codebook": code, "total": enc + dec + code}


def to_pixels_uint8(x: torch.Tensor) -> torch.Tensor:
    """The official samplers' conversion: clamp(127.5 x + 128, 0, 255), truncated to uint8, NHWC."""
    return torch.clamp(127.5 * x + 128.0, 0, 255).permute(0, 2, 3, 1).to(torch.uint8)


# --- checkpoints ----------------------------------------------------------------------------

GPT_MARKERS = ("tok_embeddings.weight", "cls_embedding.embedding_table.weight", "layers.0.attention.wqkv.weight")
_PREFIXES = ("module.", "_orig_mod.", "vq_model.", "vq.")


def read_checkpoint(path: str):
    """``torch.load`` a checkpoint, tensors only first (``weights_only``: no code runs while reading);
    a file that also pickles Python objects (e.g. LlamaGen's training ``args`` Namespace) is read
    again with full unpickling, as torch < 2.6 does by default, and a note says so on stderr.
    Returns (object, fully_unpickled). Other failures (truncated file, not a .pt) propagate."""
    import pickle
    import sys

    try:
        return torch.load(path, map_location="cpu", weights_only=True), False
    except pickle.UnpicklingError as e:
        if "weights only" not in str(e).lower():
            raise
    print(f"note: {os.path.basename(path)} holds Python objects besides tensors; reading it with full unpickling"
          " (only do this with files from a source you trust)", file=sys.stderr)
    return torch.load(path, map_location="cpu", weights_only=False), True


def _state_dict_of(obj, path: str) -> Dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("model", "ema", "state_dict", "module"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(torch.is_tensor(v) for v in inner.values()):
                return dict(inner)
        if obj and all(torch.is_tensor(v) for v in obj.values()):
            return dict(obj)
        raise VqError(f"{path}: no state dict found (top-level keys {sorted(map(str, obj.keys()))[:12]});"
                      " expected LlamaGen's VQ checkpoint, which holds it under 'model'")
    raise VqError(f"{path} holds a {type(obj).__name__}, not a dict of tensors: pass LlamaGen's VQ checkpoint"
                  " (e.g. vq_ds16_c2i.pt)")


def clean_vq_keys(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    out = {}
    for k, v in state.items():
        changed = True
        while changed:
            changed = False
            for p in _PREFIXES:
                if k.startswith(p):
                    k, changed = k[len(p):], True
        out[k] = v
    return out


def _need(state: Dict[str, torch.Tensor], key: str, path: str) -> Tuple[int, ...]:
    if key not in state:
        raise VqError(f"{path}: missing key {key!r}, so the tokenizer's shape cannot be read. Fix: pass LlamaGen's"
                      " VQ checkpoint unmodified (e.g. vq_ds16_c2i.pt, state dict under 'model')")
    return tuple(state[key].shape)


def _levels(state: Dict[str, torch.Tensor], prefix: str) -> int:
    ids = {int(m.group(1)) for k in state for m in [re.match(re.escape(prefix) + r"conv_blocks\.(\d+)\.", k)] if m}
    return max(ids) + 1 if ids else 0


def infer_vq_config(state: Dict[str, torch.Tensor], path: str = "checkpoint") -> VQConfig:
    """Read a VQ config from a LlamaGen VQ state dict's shapes (widths, levels, codebook, z)."""
    if any(k in state for k in GPT_MARKERS) and "quantize.embedding.weight" not in state:
        raise VqError(f"{path} is a GPT checkpoint (it has tok_embeddings / layers.*), not a VQ tokenizer. Fix: pass"
                      " it as --checkpoint and the tokenizer (e.g. vq_ds16_c2i.pt) as --vq-checkpoint")
    if not any(k.startswith(("encoder.", "decoder.", "quantize.")) for k in state):
        raise VqError(f"{path} has no encoder./decoder./quantize. keys (first keys: {sorted(state)[:5]}): it is not a"
                      " LlamaGen VQ checkpoint. Fix: pass vq_ds16_c2i.pt (or another LlamaGen VQModel checkpoint)")
    k, d = _need(state, "quantize.embedding.weight", path)
    ch, cin = _need(state, "encoder.conv_in.weight", path)[:2]
    z = _need(state, "encoder.conv_out.weight", path)[0]
    enc_levels, dec_levels = _levels(state, "encoder."), _levels(state, "decoder.")
    enc_mult, dec_mult = [], []
    for i in range(enc_levels):
        enc_mult.append(_need(state, f"encoder.conv_blocks.{i}.res.0.conv1.weight", path)[0] // ch)
    for j in range(dec_levels):  # decoder block j is level dec_levels - 1 - j
        dec_mult.append(_need(state, f"decoder.conv_blocks.{j}.res.0.conv1.weight", path)[0] // ch)
    dec_mult.reverse()
    res_ids = {int(m.group(1)) for key in state for m in [re.match(r"encoder\.conv_blocks\.0\.res\.(\d+)\.", key)] if m}
    out_ch = _need(state, "decoder.conv_out.weight", path)[0]
    cfg = VQConfig(codebook_size=k, codebook_embed_dim=d, codebook_show_usage="quantize.codebook_used" in state,
                   encoder_ch_mult=enc_mult, decoder_ch_mult=dec_mult, z_channels=z, ch=ch,
                   num_res_blocks=(max(res_ids) + 1) if res_ids else 2, in_channels=cin, out_channels=out_ch)
    return cfg.validate()


def load_vq_state_strict(model: VQModel, state: Dict[str, torch.Tensor], path: str = "checkpoint") -> None:
    """Load ``state`` into ``model``; missing, unexpected and misshaped keys are named in a VqError."""
    own = model.state_dict()
    missing = sorted(k for k in own if k not in state)
    unexpected = sorted(k for k in state if k not in own)
    misshaped = sorted(f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                       for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape))
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if misshaped:
        problems.append("shape mismatches: " + "; ".join(misshaped))
    if problems:
        raise VqError(f"{path} does not fit a LlamaGen VQ model (ch {model.config.ch}, ch_mult"
                      f" {list(model.config.encoder_ch_mult)}, codebook {model.config.codebook_size}x"
                      f"{model.config.codebook_embed_dim}): " + " | ".join(problems)
                      + ". Fix: pass LlamaGen's VQ checkpoint unmodified (re-download it if it was edited)")
    model.load_state_dict({k: state[k].float() if state[k].is_floating_point() else state[k] for k in own},
                          strict=True)


def load_vq_checkpoint(path: str, expect: Optional[str] = None) -> Tuple[VQModel, Dict]:
    """Load a LlamaGen VQ checkpoint (``.pt``) into a VQModel in eval mode.

    ``expect`` ("VQ-16" / "VQ-8") checks the inferred geometry against the named config.
    Returns (model, info) with info = {"config", "droppedKeys"}. Every failure is a VqError
    naming the problem and the fix.
    """
    if not os.path.isfile(path):
        raise VqError(f"VQ checkpoint {path!r} does not exist")
    try:
        obj, _ = read_checkpoint(path)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a user error here
        raise VqError(f"cannot read {path!r} as a torch checkpoint ({type(e).__name__}: {e}). The file is truncated or"
                      " not a .pt file: download it again (vq_ds16_c2i.pt from LlamaGen's release)") from None
    state = clean_vq_keys(_state_dict_of(obj, path))
    cfg = infer_vq_config(state, path)
    if expect:
        if expect not in VQ_CONFIGS:
            raise VqError(f"unknown VQ config {expect!r}: use one of {', '.join(VQ_CONFIGS)}")
        want = VQ_CONFIGS[expect]()
        if (list(want.encoder_ch_mult), want.ch) != (list(cfg.encoder_ch_mult), cfg.ch):
            raise VqError(f"{path} has ch {cfg.ch} and ch_mult {list(cfg.encoder_ch_mult)} but {expect} has ch"
                          f" {want.ch} and ch_mult {list(want.encoder_ch_mult)}: drop --vq-model or name the right one")
    model = VQModel(cfg)
    load_vq_state_strict(model, state, path)
    return model.eval(), {"config": cfg}


def round_vq_to_fp16(model: VQModel) -> VQModel:
    """Round every parameter to fp16 precision in place (storage stays fp32); returns the model."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def random_vq(cfg: VQConfig, seed: int = 0) -> VQModel:
    """A VQModel with seeded random weights: PyTorch's default init and LlamaGen's codebook init,
    with the GroupNorm scales and shifts drawn too (1 + N(0, 0.1), N(0, 0.1)) instead of ones and
    zeros, so a parity check also catches a swapped or misplaced norm weight."""
    torch.manual_seed(seed)
    model = VQModel(cfg).eval()
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.GroupNorm):
                mod.weight.normal_(1.0, 0.1)
                mod.bias.normal_(0.0, 0.1)
    return model

