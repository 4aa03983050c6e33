"""PRN, the progressive refinement network (MGMatting / Mask-guided Matting in the Wild).

Image + guidance in; alpha from three heads (1/8, 1/4, 1/1) out, fused coarse to fine.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from wildmatte.model.blocks import ASPP, BasicBlock, conv_bn_relu, make_stage
from wildmatte.model.config import PRNConfig, get_config
from wildmatte.model.efficientnet_lite import EfficientNetLite
from wildmatte.model.fusion import fuse_progressive

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# EfficientNet-Lite was trained on (x - 127) / 128 of 8-bit pixels.
LITE_MEAN, LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3


def _shortcut(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(conv_bn_relu(cin, cout), conv_bn_relu(cout, cout))


class Encoder(nn.Module):
    """ResNet-34-style encoder on 4 channels, with shortcut convs for the skips and ASPP."""

    def __init__(self, cfg: PRNConfig) -> None:
        super().__init__()
        half = max(cfg.stem // 2, 1)
        self.stem = nn.Sequential(
            conv_bn_relu(4, half, stride=2), conv_bn_relu(half, half), conv_bn_relu(half, cfg.stem)
        )
        chans = (cfg.stem, *cfg.widths)
        self.stages = nn.ModuleList(
            make_stage(chans[i], chans[i + 1], cfg.depths[i], stride=2) for i in range(4)
        )
        feat_chans = (4, cfg.stem, *cfg.widths[:3])  # features at 1/1, 1/2, 1/4, 1/8, 1/16
        self.shortcuts = nn.ModuleList(_shortcut(c, s) for c, s in zip(feat_chans, cfg.shortcut))
        self.aspp = ASPP(cfg.widths[3], cfg.aspp, cfg.aspp_rates)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input and the stem's and stages' outputs: 1/1, 1/2, 1/4, 1/8, 1/16, 1/32. The
        shortcuts and ASPP are applied by PRN, which needs the finest ones only near edges."""
        feats = [x, self.stem(x)]
        for stage in self.stages:
            feats.append(stage(feats[-1]))
        return feats


class LiteEncoder(nn.Module):
    """EfficientNet-Lite on 4 channels (image, then guidance), with the same shortcuts and ASPP.

    Only the stem conv sees the guidance; its ImageNet RGB filters are kept as they are.
    """

    def __init__(self, cfg: PRNConfig) -> None:
        super().__init__()
        self.backbone = EfficientNetLite(cfg.backbone, in_chans=4)
        feat_chans = (4, *self.backbone.channels[:4])
        self.shortcuts = nn.ModuleList(_shortcut(c, s) for c, s in zip(feat_chans, cfg.shortcut))
        self.aspp = ASPP(self.backbone.channels[4], cfg.aspp, cfg.aspp_rates)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x, *self.backbone(x)]

    @torch.no_grad()
    def load_imagenet(self, state: dict[str, torch.Tensor]) -> None:
        """Load a 3-channel ImageNet state dict (efficientnet_lite.imagenet_state_dict). The
        guidance filter starts as the mean of the RGB ones: a mask then reads like a grey
        picture of the object, a signal the first layer already responds to."""
        state = dict(state)
        rgb = state["stem.0.weight"]
        state["stem.0.weight"] = torch.cat([rgb, rgb.mean(1, keepdim=True)], dim=1)
        self.backbone.load_state_dict(state)


class UpStage(nn.Module):
    """Upsample ×2, concatenate the skip feature, fuse with a conv, refine with residual blocks."""

    def __init__(self, cin: int, cskip: int, cout: int, depth: int) -> None:
        super().__init__()
        self.fuse = conv_bn_relu(cin + cskip, cout)
        self.blocks = nn.Sequential(*[BasicBlock(cout, cout) for _ in range(depth)])

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
        return self.blocks(self.fuse(torch.cat([x, skip], dim=1)))


class PRN(nn.Module):
    """Progressive refinement network. Input sides must be multiples of 32."""

    def __init__(self, cfg: PRNConfig | str | dict = "prn") -> None:
        super().__init__()
        self.config = get_config(cfg)
        c = self.config
        self.encoder = Encoder(c) if c.backbone == "resnet" else LiteEncoder(c)
        sc, dec, dd = c.shortcut, c.decoder, c.decoder_depths
        self.up16 = UpStage(c.aspp, sc[4], dec[0], dd[0])
        self.up8 = UpStage(dec[0], sc[3], dec[1], dd[1])
        self.up4 = UpStage(dec[1], sc[2], dec[2], dd[2])
        self.up2 = UpStage(dec[2], sc[1], dec[3], dd[3])
        self.up1 = UpStage(dec[3], sc[0], dec[4], 0)
        self.head_os8 = nn.Conv2d(dec[1], 1, 3, padding=1)
        self.head_os4 = nn.Conv2d(dec[2], 1, 3, padding=1)
        self.head_os1 = nn.Conv2d(dec[4], 1, 3, padding=1)
        self.head_seg = nn.Conv2d(dec[1], 1, 3, padding=1) if c.seg_head else None
        mean, std = (
            (IMAGENET_MEAN, IMAGENET_STD) if c.backbone == "resnet" else (LITE_MEAN, LITE_STD)
        )
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    @staticmethod
    def _to_alpha(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        # In fp32 even under bf16 autocast: bf16 tanh rounds to ±1 beyond |logit| ≈ 3.5, which
        # zeroes alpha's gradient there and quantises alpha near 0 and 1 in steps of 1/512.
        logits = F.interpolate(logits.float(), size=size, mode="bilinear", align_corners=False)
        return (torch.tanh(logits) + 1.0) / 2.0

    def inputs(self, image: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        """The network's input: the normalised image and the guidance, N×4×H×W."""
        return torch.cat([(image - self.mean) / self.std, guidance], dim=1)

    def coarse(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything but the 1/1 head: the 1/8 and 1/4 heads' full-resolution alphas, and
        `stem` (1/2) and `d4` (1/4), which `fine` needs."""
        size = (x.shape[2], x.shape[3])
        feats = self.encoder(x)
        skips = [sc(f) for sc, f in zip(self.encoder.shortcuts[2:], feats[2:5])]
        d16 = self.up16(self.encoder.aspp(feats[5]), skips[2])
        d8 = self.up8(d16, skips[1])
        d4 = self.up4(d8, skips[0])
        return {
            "stem": feats[1],
            "d4": d4,
            "d8": d8,
            "alpha_os8": self._to_alpha(self.head_os8(d8), size),
            "alpha_os4": self._to_alpha(self.head_os4(d4), size),
        }

    def fine(self, x: torch.Tensor, stem: torch.Tensor, d4: torch.Tensor) -> torch.Tensor:
        """The 1/1 head's logits from the input, the stem's output and the 1/4 decoder features.
        Each output pixel sees only a small window of them, so it can run on crops alone."""
        sc = self.encoder.shortcuts
        return self.head_os1(self.up1(self.up2(d4, sc[1](stem)), sc[0](x)))

    def forward(self, image: torch.Tensor, guidance: torch.Tensor) -> dict[str, torch.Tensor]:
        """image: N×3×H×W in [0, 1]; guidance: N×1×H×W in [0, 1].

        Returns full-resolution alphas `alpha_os8`, `alpha_os4`, `alpha_os1` and the fused `alpha`
        (plus `seg_logits` when the config has a segmentation head).
        """
        size = (image.shape[2], image.shape[3])
        x = self.inputs(image, guidance)
        c = self.coarse(x)
        out = {
            "alpha_os8": c["alpha_os8"],
            "alpha_os4": c["alpha_os4"],
            "alpha_os1": self._to_alpha(self.fine(x, c["stem"], c["d4"]), size),
        }
        out["alpha"] = fuse_progressive(out["alpha_os8"], out["alpha_os4"], out["alpha_os1"])
        if self.head_seg is not None:
            seg = F.interpolate(
                self.head_seg(c["d8"]), size=size, mode="bilinear", align_corners=False
            )
            out["seg_logits"] = seg
        return out
