"""The FID Inception-v3: the network of TensorFlow's ``inception-2015-12-05`` graph (the one ADM's
evaluator, TTUR's FID and the original Inception Score run), laid out so that pytorch-fid's port of its
weights, ``pt_inception-2015-12-05-6726825d.pth``, loads key for key.

Module tree and parameter names follow torchvision's ``Inception3`` (``Conv2d_1a_3x3`` ...
``Mixed_7c``, ``fc``; every convolution a ``BasicConv2d``: bias-free conv, batch norm with eps 1e-3,
ReLU), built with 1008 classes and no auxiliary head, as pytorch-fid's ``fid_inception_v3`` does. The
TensorFlow graph differs from torchvision's network in three places, which pytorch-fid patches and this
module states directly:

* the 3x3 average pools inside the A, C and first E blocks (``Mixed_5b-d``, ``Mixed_6b-e``,
  ``Mixed_7b``) divide by the number of real pixels under the window, not by 9 (TensorFlow's pools
  ignore the zero padding: ``count_include_pad=False``);
* the last E block (``Mixed_7c``) pools its fourth branch with a 3x3 *max* pool (stride 1, padding 1);
* the classifier has 1008 outputs (TF's label space: 1000 ImageNet classes, a background class and
  unused slots).

``width`` scales every channel count (``max(1, round(c * width))``): 1.0 is the real network; smaller
values give a network of the same depth and wiring for test fixtures only (their weights are random;
no checkpoint has them).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Outputs of the TF graph's classifier (``softmax/logits``).
NUM_CLASSES = 1008
#: Channels of ``mixed_6/conv`` (= ``Mixed_6d.branch1x1``) that ADM's sFID keeps.
SPATIAL_CHANNELS = 7
#: Side of the pictures the network sees (the graph resizes to it first).
INPUT_SIDE = 299
#: The checkpoint pytorch-fid downloads (and torch-fidelity, under another name: same bytes).
OFFICIAL_WEIGHTS = {
    "name": "pt_inception-2015-12-05-6726825d.pth",
    "url": "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    "from": "TensorFlow inception-2015-12-05 (classify_image_graph_def.pb), ported by pytorch-fid",
}


class InceptionError(Exception):
    """A user-facing problem with a checkpoint or an option: one line that names the fix."""


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, TF's), ReLU: every layer of the network."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)
        self.out_channels = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _tf_avg3(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's 3x3/1 SAME average pool: padding does not count in the mean."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class _Block(nn.Module):
    """An Inception block: branches computed from the same input, concatenated on channels."""

    out_channels: int

    def branches(self, x: torch.Tensor) -> List[torch.Tensor]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.branches(x), 1)


class BlockA(_Block):
    """35x35 block (torchvision's InceptionA): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | TF avg pool-1x1."""

    def __init__(self, cin: int, pool_features: int, c):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, c(64), 1)
        self.branch5x5_1 = BasicConv2d(cin, c(48), 1)
        self.branch5x5_2 = BasicConv2d(c(48), c(64), 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, c(64), 1)
        self.branch3x3dbl_2 = BasicConv2d(c(64), c(96), 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(c(96), c(96), 3, padding=1)
        self.branch_pool = BasicConv2d(cin, c(pool_features), 1)
        self.out_channels = c(64) + c(64) + c(96) + c(pool_features)

    def branches(self, x):
        five = self.branch5x5_2(self.branch5x5_1(x))
        three = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), five, three, self.branch_pool(_tf_avg3(x))]


class BlockB(_Block):
    """35 -> 17 reduction (InceptionB): 3x3/2 | 1x1-3x3-3x3/2 | max pool 3x3/2 (input channels)."""

    def __init__(self, cin: int, c):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, c(384), 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, c(64), 1)
        self.branch3x3dbl_2 = BasicConv2d(c(64), c(96), 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(c(96), c(96), 3, stride=2)
        self.out_channels = c(384) + c(96) + cin

    def branches(self, x):
        three = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch3x3(x), three, F.max_pool2d(x, kernel_size=3, stride=2)]


class BlockC(_Block):
    """17x17 block with factorised 7x7s (InceptionC): 1x1 | 1x7-7x1 | 7x1-1x7-7x1-1x7 | TF avg pool-1x1."""

    def __init__(self, cin: int, channels_7x7: int, c):
        super().__init__()
        m = c(channels_7x7)
        self.branch1x1 = BasicConv2d(cin, c(192), 1)
        self.branch7x7_1 = BasicConv2d(cin, m, 1)
        self.branch7x7_2 = BasicConv2d(m, m, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(m, c(192), (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, m, 1)
        self.branch7x7dbl_2 = BasicConv2d(m, m, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(m, m, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(m, m, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(m, c(192), (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, c(192), 1)
        self.out_channels = 4 * c(192)

    def branches(self, x):
        seven = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        dbl = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            dbl = layer(dbl)
        return [self.branch1x1(x), seven, dbl, self.branch_pool(_tf_avg3(x))]


class BlockD(_Block):
    """17 -> 8 reduction (InceptionD): 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | max pool 3x3/2."""

    def __init__(self, cin: int, c):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, c(192), 1)
        self.branch3x3_2 = BasicConv2d(c(192), c(320), 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, c(192), 1)
        self.branch7x7x3_2 = BasicConv2d(c(192), c(192), (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(c(192), c(192), (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(c(192), c(192), 3, stride=2)
        self.out_channels = c(320) + c(192) + cin

    def branches(self, x):
        three = self.branch3x3_2(self.branch3x3_1(x))
        seven = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return [three, seven, F.max_pool2d(x, kernel_size=3, stride=2)]


class BlockE(_Block):
    """8x8 block with split 1x3/3x1 heads (InceptionE). ``pool`` is "avg" (TF avg pool, Mixed_7b) or
    "max" (3x3/1 max pool, Mixed_7c: what the TF graph does there)."""

    def __init__(self, cin: int, pool: str, c):
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f'pool must be "avg" or "max", got {pool!r}')
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, c(320), 1)
        self.branch3x3_1 = BasicConv2d(cin, c(384), 1)
        self.branch3x3_2a = BasicConv2d(c(384), c(384), (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(c(384), c(384), (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, c(448), 1)
        self.branch3x3dbl_2 = BasicConv2d(c(448), c(384), 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(c(384), c(384), (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(c(384), c(384), (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, c(192), 1)
        self.out_channels = c(320) + 4 * c(384) + c(192)

    def branches(self, x):
        t = self.branch3x3_1(x)
        three = torch.cat([self.branch3x3_2a(t), self.branch3x3_2b(t)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        dbl = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = _tf_avg3(x) if self.pool == "avg" else F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return [self.branch1x1(x), three, dbl, self.branch_pool(pooled)]


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3 on pictures already resized to 299x299 and scaled to about [-1, 1].

    ``forward`` returns ``(pool, spatial_map)``: the 2048-d average pool of ``Mixed_7c`` (TF's
    ``pool_3``) and the output of ``Mixed_6d.branch1x1`` (TF's ``mixed_6/conv``, after its ReLU),
    [N, 192, 17, 17]. ``fc`` is TF's ``softmax`` layer (weights and bias; IS uses the weights only).
    """

    def __init__(self, width: float = 1.0, num_classes: int = NUM_CLASSES):
        super().__init__()
        if not (0 < width <= 1):
            raise InceptionError(f"width {width} must be in (0, 1] (1 = the real network)")
        self.width = width

        def c(n: int) -> int:
            return max(1, int(round(n * width)))

        self.Conv2d_1a_3x3 = BasicConv2d(3, c(32), 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(c(32), c(32), 3)
        self.Conv2d_2b_3x3 = BasicConv2d(c(32), c(64), 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(c(64), c(80), 1)
        self.Conv2d_4a_3x3 = BasicConv2d(c(80), c(192), 3)
        self.Mixed_5b = BlockA(c(192), 32, c)
        self.Mixed_5c = BlockA(self.Mixed_5b.out_channels, 64, c)
        self.Mixed_5d = BlockA(self.Mixed_5c.out_channels, 64, c)
        self.Mixed_6a = BlockB(self.Mixed_5d.out_channels, c)
        self.Mixed_6b = BlockC(self.Mixed_6a.out_channels, 128, c)
        self.Mixed_6c = BlockC(self.Mixed_6b.out_channels, 160, c)
        self.Mixed_6d = BlockC(self.Mixed_6c.out_channels, 160, c)
        self.Mixed_6e = BlockC(self.Mixed_6d.out_channels, 192, c)
        self.Mixed_7a = BlockD(self.Mixed_6e.out_channels, c)
        self.Mixed_7b = BlockE(self.Mixed_7a.out_channels, "avg", c)
        self.Mixed_7c = BlockE(self.Mixed_7b.out_channels, "max", c)
        self.pool_dim = self.Mixed_7c.out_channels
        self.fc = nn.Linear(self.pool_dim, num_classes)
        if self.Mixed_6d.branch1x1.out_channels < SPATIAL_CHANNELS:
            raise InceptionError(f"width {width} leaves Mixed_6d.branch1x1 {self.Mixed_6d.branch1x1.out_channels}"
                                 f" channels; sFID needs {SPATIAL_CHANNELS} (use width >= {SPATIAL_CHANNELS / 192:.3f})")

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c):
            x = block(x)
        parts = self.Mixed_6d.branches(x)
        spatial_map = parts[0]
        x = torch.cat(parts, 1)
        for block in (self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        pool = torch.mean(x, dim=(2, 3))  # 8x8 at 299: TF's pool_3 (8x8 VALID average)
        return pool, spatial_map

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def expected_shapes(model: FIDInceptionV3) -> Dict[str, Tuple[int, ...]]:
    """Key -> shape of the weights a checkpoint must hold (``num_batches_tracked`` excluded: it is
    a training counter, absent from the TF port and ignored when present)."""
    return {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def _read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    if not os.path.isfile(path):
        raise InceptionError(f"--weights: {path} does not exist. Fix: download {OFFICIAL_WEIGHTS['name']} "
                             f"from {OFFICIAL_WEIGHTS['url']}")
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # torch without weights_only
            obj = torch.load(path, map_location="cpu")
    except Exception as e:  # truncated download, not a torch file, pickled code
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InceptionError(f"--weights: {path} cannot be read by torch.load ({first}). Fix: re-download "
                             f"{OFFICIAL_WEIGHTS['name']} ({OFFICIAL_WEIGHTS['url']})") from None
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        keys = list(obj.keys())[:6] if isinstance(obj, dict) else []
        raise InceptionError(f"--weights: {path} is not a plain state dict of tensors "
                             f"({type(obj).__name__}{f' with keys {keys}' if keys else ''}). Fix: pass pytorch-fid's "
                             f"{OFFICIAL_WEIGHTS['name']}")
    return obj


def _names(keys: List[str], limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return f"{shown}, ... ({len(keys)} in all)" if len(keys) > limit else shown


def check_state_dict(state: Dict[str, torch.Tensor], model: FIDInceptionV3, where: str = "--weights") -> None:
    """Raise :class:`InceptionError` naming every missing, unexpected and misshaped key."""
    want = expected_shapes(model)
    have = {k: tuple(v.shape) for k, v in state.items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in want if k not in have]
    unexpected = [k for k in have if k not in want]
    misshaped = [f"{k} is {list(have[k])}, expected {list(want[k])}" for k in want if k in have and have[k] != want[k]]
    if not (missing or unexpected or misshaped):
        return
    parts = []
    if missing:
        parts.append(f"missing keys: {_names(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_names(unexpected)}")
    if misshaped:
        parts.append(f"misshaped: {_names(misshaped, 3)}")
    hint = ""
    if any(k.startswith("AuxLogits.") for k in have) or have.get("fc.weight", (0,))[0] == 1000:
        hint = " (this looks like torchvision's ImageNet Inception-v3, not the FID port of TF's graph)"
    raise InceptionError(f"{where}: not the FID Inception-v3 checkpoint{hint}: " + "; ".join(parts) +
                         f". Fix: pass pytorch-fid's {OFFICIAL_WEIGHTS['name']} ({OFFICIAL_WEIGHTS['url']})")


def load_fid_inception(path: str) -> FIDInceptionV3:
    """The real network with the weights of ``path`` (pytorch-fid's port), loaded strictly."""
    state = _read_state_dict(path)
    model = FIDInceptionV3()
    check_state_dict(state, model)
    model.load_state_dict({k: v.float() for k, v in state.items() if not k.endswith("num_batches_tracked")},
                          strict=False)  # strict checked above, counters aside
    return model.eval()


def random_fid_inception(width: float = 1.0, seed: int = 0) -> FIDInceptionV3:
    """The network with seeded random weights (cost and wiring of the real one at width 1): He-normal
    convolutions, batch-norm scales, shifts and running statistics drawn too (so a misplaced one shows),
    a small classifier."""
    g = torch.Generator().manual_seed(seed)
    model = FIDInceptionV3(width=width)
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(n, generator=g))
                mod.bias.copy_(0.1 * torch.randn(n, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(n, generator=g))
        model.fc.weight.copy_(torch.randn(model.fc.weight.shape, generator=g) / model.pool_dim ** 0.5)
        model.fc.bias.copy_(0.1 * torch.randn(model.fc.bias.shape, generator=g))
    return model.eval()
