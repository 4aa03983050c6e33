"""Matting losses (L1, composition, Laplacian) on each PRN head, weighted by region masks."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from wildmatte.model.fusion import fuse_progressive, uncertain_band

EPS = 1e-6


def _weighted_mean(err: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    if weight is None:
        return err.mean()
    weight = weight.expand_as(err)
    return (err * weight).sum() / (weight.sum() + EPS)


def l1_loss(
    pred: torch.Tensor, gt: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    return _weighted_mean((pred - gt).abs(), weight)


def composition_loss(
    alpha: torch.Tensor,
    fg: torch.Tensor,
    bg: torch.Tensor,
    image: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L1 between the image and its re-composition with the predicted alpha (Eq. 1)."""
    return _weighted_mean((alpha * fg + (1.0 - alpha) * bg - image).abs(), weight)


def background_loss(
    pred: torch.Tensor, gt: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean predicted alpha where the target is absent (α = 0): with a weight, an extra cost on
    taking pieces of neighbours and background, on top of L1's symmetric one."""
    return _weighted_mean(pred * (gt <= 0).to(pred.dtype), weight)


def missed_loss(
    pred: torch.Tensor,
    gt: torch.Tensor,
    guidance: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean target alpha left out where the guidance missed the target (guidance < 0.5):
    with a weight, it counters the background loss's pull towards trusting the mask's gaps."""
    missed = (guidance < 0.5).to(pred.dtype)
    return _weighted_mean((gt - pred).clamp(min=0) * missed, weight)


_TAPS = (1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16)  # the binomial 5-tap kernel, separable


def _blur(x: torch.Tensor, step: int = 1) -> torch.Tensor:
    """The 5×5 binomial blur with reflected borders, as two passes of shifted sums; `step` 2
    computes only every other row and column (what a pyramid keeps).

    conv2d with a 5×5 kernel on a one-channel map is slow on a CPU: 190-250 ms forward and
    backward at 8×1×320² on one thread against 21-38 ms this way (the same values to 3e-7).
    """
    h, w = x.shape[-2:]
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    rows = sum(t * padded[..., i : i + w : step] for i, t in enumerate(_TAPS))
    return sum(t * rows[..., i : i + h : step, :] for i, t in enumerate(_TAPS))


def laplacian_pyramid(x: torch.Tensor, levels: int = 5) -> list[torch.Tensor]:
    """Band-pass levels of an N×1×H×W map, finest first (the last level is the residual)."""
    bands = []
    current = x
    for _ in range(levels - 1):
        down = _blur(current, step=2)
        up = F.interpolate(down, size=current.shape[2:], mode="bilinear", align_corners=False)
        bands.append(current - _blur(up))
        current = down
    bands.append(current)
    return bands


def laplacian_loss(
    pred: torch.Tensor, gt: torch.Tensor, weight: torch.Tensor | None = None, levels: int = 5
) -> torch.Tensor:
    """Σ_i 2^i · L1 of the i-th Laplacian band: coarse bands count more, as in MGMatting."""
    if weight is not None:
        pred, gt = pred * weight, gt * weight
    bands = zip(laplacian_pyramid(pred, levels), laplacian_pyramid(gt, levels))
    return sum((2**i) * (p - g).abs().mean() for i, (p, g) in enumerate(bands))


def band_weights(
    out: dict[str, torch.Tensor], radius_os4: int, radius_os1: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Regions where the 1/4 and 1/1 heads are trained: the bands where they would be used."""
    with torch.no_grad():
        w4 = uncertain_band(out["alpha_os8"].detach(), radius_os4).float()
        fused = fuse_progressive(
            out["alpha_os8"].detach(),
            out["alpha_os4"].detach(),
            out["alpha_os4"].detach(),
            radius_os4=radius_os4,
            radius_os1=0,
        )
        w1 = uncertain_band(fused, radius_os1).float()
    return w4, w1


HEADS = ("alpha_os8", "alpha_os4", "alpha_os1")


def matting_loss(
    out: dict[str, torch.Tensor],
    batch: dict[str, torch.Tensor],
    head_weights: tuple[float, float, float] = (1.0, 1.0, 2.0),
    terms: dict[str, float] | None = None,
    bands: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Composited-data loss: (L1 + composition + Laplacian) on each head, heads weighted 1:1:2.

    `terms` weighs them ({"l1", "comp", "lap"}, plus optional "bg": background_loss and
    "missed": missed_loss).
    `bands` = (weight_os4, weight_os1) restricts the finer heads to their uncertain bands.
    """
    terms = terms or {"l1": 1.0, "comp": 1.0, "lap": 1.0}
    regions = (None, *bands) if bands is not None else (None, None, None)
    gt = batch["alpha"]
    total = gt.new_zeros(())
    logs: dict[str, float] = {}
    for head, hw, region in zip(HEADS, head_weights, regions):
        pred = out[head]
        parts = {
            "l1": l1_loss(pred, gt, region),
            "comp": composition_loss(pred, batch["fg"], batch["bg"], batch["image"], region),
            "lap": laplacian_loss(pred, gt, region),
        }
        if terms.get("bg"):
            parts["bg"] = background_loss(pred, gt, region)
        if terms.get("missed"):
            parts["missed"] = missed_loss(pred, gt, batch["guidance"], region)
        head_loss = sum(terms.get(k, 0.0) * v for k, v in parts.items())
        total = total + hw * head_loss
        for k, v in parts.items():
            logs[f"{k}_{head[6:]}"] = float(v.detach())
    logs["loss_comp"] = float(total.detach())
    return total, logs
