"""Building blocks shared by the encoder and the decoder."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def conv_bn_relu(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            # ResNet-D style: average-pool before the projection keeps all pixels' information.
            pool = nn.AvgPool2d(stride, stride) if stride > 1 else nn.Identity()
            self.down = nn.Sequential(
                pool, nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        identity = x if self.down is None else self.down(x)
        return F.relu(out + identity, inplace=True)


def make_stage(cin: int, cout: int, depth: int, stride: int) -> nn.Sequential:
    blocks = [BasicBlock(cin, cout, stride)]
    blocks += [BasicBlock(cout, cout) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: parallel dilated convs plus image-level pooling."""

    def __init__(self, cin: int, cout: int, rates: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))
            if r == 1
            else conv_bn_relu(cin, cout, dilation=r)
            for r in rates
        )
        # No BatchNorm after global pooling: batch-1 inference must match training statistics.
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1), nn.ReLU(True)
        )
        self.project = nn.Sequential(
            nn.Conv2d(cout * (len(rates) + 1), cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [b(x) for b in self.branches]
        feats.append(self.image_pool(x).expand(-1, -1, x.shape[2], x.shape[3]))
        return self.project(torch.cat(feats, dim=1))
