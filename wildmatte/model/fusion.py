"""Progressive refinement: each finer head replaces the coarser alpha inside its uncertain band."""

from __future__ import annotations

import torch
from torch.nn import functional as F

LOW, HIGH = 1.0 / 255.0, 254.0 / 255.0
RADIUS_OS4, RADIUS_OS1 = 15, 7  # px the 1/4 and 1/1 heads' bands reach beyond the doubt


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


def replace_in_band(alpha: torch.Tensor, finer: torch.Tensor, radius: int) -> torch.Tensor:
    """`finer` inside the uncertain band of `alpha` (dilated by `radius`), `alpha` elsewhere."""
    return torch.where(uncertain_band(alpha, radius), finer, alpha)


def fuse_progressive(
    alpha_os8: torch.Tensor,
    alpha_os4: torch.Tensor,
    alpha_os1: torch.Tensor,
    radius_os4: int = RADIUS_OS4,
    radius_os1: int = RADIUS_OS1,
) -> torch.Tensor:
    """Fuse three N×1×H×W alphas (all at full resolution) into one, coarse to fine."""
    alpha = replace_in_band(alpha_os8, alpha_os4, radius_os4)
    return replace_in_band(alpha, alpha_os1, radius_os1)
