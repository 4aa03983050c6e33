"""Progressive refinement: each finer head replaces the coarser alpha inside its uncertain band."""

from __future__ import annotations

import torch
from torch.nn import functional as F

LOW, HIGH = 1.0 / 255.0, 254.0 / 255.0


def max_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """The maximum over a (2r+1)² square around each pixel of an N×C×H×W tensor, same size."""
    # A square max filter is separable: two 1-D passes cost O(r) instead of O(r²).
    k = 2 * radius + 1
    x = F.max_pool2d(x, kernel_size=(1, k), stride=1, padding=(0, radius))
    return F.max_pool2d(x, kernel_size=(k, 1), stride=1, padding=(radius, 0))


def uncertain_band(alpha: torch.Tensor, radius: int) -> torch.Tensor:
    """Pixels with LOW <= alpha <= HIGH, dilated by `radius` pixels (a (2r+1)² square); bool."""
    band = ((alpha >= LOW) & (alpha <= HIGH)).to(alpha.dtype)
    if radius > 0:
        band = max_filter(band, radius)
    return band > 0


def fuse_progressive(
    alpha_os8: torch.Tensor,
    alpha_os4: torch.Tensor,
    alpha_os1: torch.Tensor,
    radius_os4: int = 15,
    radius_os1: int = 7,
) -> torch.Tensor:
    """Fuse three N×1×H×W alphas (all at full resolution) into one, coarse to fine."""
    alpha = alpha_os8
    alpha = torch.where(uncertain_band(alpha, radius_os4), alpha_os4, alpha)
    alpha = torch.where(uncertain_band(alpha, radius_os1), alpha_os1, alpha)
    return alpha
