"""Matting errors following the Deep Image Matting conventions.

Alphas are float arrays in [0, 1]. SAD, Grad and Conn are reported divided by 1000, MSE as is.
Every metric takes an optional region mask (e.g. the unknown band of a trimap); pixels outside it
do not count. The FG/BG/OCC variants of SAD are the Composition-Wild split of the error; Holes is
the share of the target's deep opaque interior predicted below 0.5 (interior_holes).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter

_Region = np.ndarray | None


def _prepare(pred: np.ndarray, gt: np.ndarray, region: _Region) -> tuple[np.ndarray, ...]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    mask = np.ones(gt.shape, bool) if region is None else np.asarray(region).astype(bool)
    if mask.shape != gt.shape:
        raise ValueError(f"region {mask.shape} and ground truth {gt.shape} differ in shape")
    return pred, gt, mask


def sad(pred: np.ndarray, gt: np.ndarray, region: _Region = None) -> float:
    """Sum of absolute differences, /1000."""
    pred, gt, mask = _prepare(pred, gt, region)
    return float(np.abs(pred - gt)[mask].sum() / 1000.0)


def mse(pred: np.ndarray, gt: np.ndarray, region: _Region = None) -> float:
    """Mean squared error over the region (0 for an empty region)."""
    pred, gt, mask = _prepare(pred, gt, region)
    n = mask.sum()
    return float(((pred - gt) ** 2)[mask].sum() / n) if n else 0.0


def sad_fg(pred: np.ndarray, gt: np.ndarray) -> float:
    """SAD where the target is present (GT alpha > 0)."""
    return sad(pred, gt, np.asarray(gt) > 0)


def sad_bg(pred: np.ndarray, gt: np.ndarray) -> float:
    """SAD over everything else (GT alpha = 0): other objects and background picked up."""
    return sad(pred, gt, np.asarray(gt) <= 0)


def sad_bg_by_distance(
    pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, edges: tuple[int, ...] = (8, 20, 50)
) -> dict[str, float]:
    """SAD_BG split by how far each pixel lies outside the guidance mask (Euclidean, px).

    Keys: "in mask", then one per distance band ("0-8 px", ..., ">50 px"); they sum to SAD_BG.
    Shows whether background error is the mask's own (a matting solver confined to the mask
    can only make this kind) or the model reaching past it.
    """
    outside = (np.asarray(mask) <= 0.5).astype(np.uint8)
    if outside.all():  # an empty mask: every pixel is infinitely far from it
        dist = np.full(outside.shape, np.inf, np.float32)
    else:
        dist = cv2.distanceTransform(outside, cv2.DIST_L2, 5)
    background = np.asarray(gt) <= 0
    out = {"in mask": sad(pred, gt, background & (outside == 0))}
    lower = 0
    for upper in edges:
        out[f"{lower}-{upper} px"] = sad(pred, gt, background & (dist > lower) & (dist <= upper))
        lower = upper
    out[f">{lower} px"] = sad(pred, gt, background & (dist > lower))
    return out


def _gradient_magnitude(alpha: np.ndarray, sigma: float) -> np.ndarray:
    # Gaussian-derivative filters, as in the DIM evaluation code.
    gx = gaussian_filter(alpha, sigma, order=(0, 1), mode="nearest")
    gy = gaussian_filter(alpha, sigma, order=(1, 0), mode="nearest")
    return np.sqrt(gx**2 + gy**2)


def grad(pred: np.ndarray, gt: np.ndarray, region: _Region = None, sigma: float = 1.4) -> float:
    """Gradient error: squared difference of Gaussian-derivative gradient magnitudes, /1000."""
    pred, gt, mask = _prepare(pred, gt, region)
    diff = (_gradient_magnitude(pred, sigma) - _gradient_magnitude(gt, sigma)) ** 2
    return float(diff[mask].sum() / 1000.0)


def _largest_component(binary: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros(binary.shape, bool)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == biggest


def conn(pred: np.ndarray, gt: np.ndarray, region: _Region = None, step: float = 0.1) -> float:
    """Connectivity error (Rhemann et al.), thresholds in steps of 0.1, /1000."""
    pred, gt, mask = _prepare(pred, gt, region)
    thresholds = np.arange(0.0, 1.0 + step, step)
    # l_map: the last threshold at which each pixel was still connected to the common component.
    l_map = np.full(gt.shape, -1.0)
    for t in thresholds[1:]:
        omega = _largest_component((pred >= t) & (gt >= t))
        l_map[(l_map == -1) & ~omega] = t - step
    l_map[l_map == -1] = 1.0

    def phi(alpha: np.ndarray) -> np.ndarray:
        d = alpha - l_map
        return 1.0 - d * (d >= 0.15)

    return float(np.abs(phi(pred) - phi(gt))[mask].sum() / 1000.0)


def interior_holes(pred: np.ndarray, gt: np.ndarray, margin: float = 5) -> float:
    """Share of the target's deep interior predicted below 0.5 (NaN when it has none).

    The deep interior: pixels of the opaque part (gt ≥ 0.99) more than `margin` px (Euclidean)
    from any pixel outside it, i.e. the opaque part eroded by a disc of radius `margin`. True
    holes (gt < 0.99) and the band around them are outside it, so predicting them is never
    counted; only holes punched into solid object are.
    """
    pred, gt, _ = _prepare(pred, gt, None)
    opaque = np.pad(gt >= 0.99, 1)  # the image border counts as outside
    depth = distance_transform_edt(opaque)[1:-1, 1:-1]
    interior = depth > margin
    if not interior.any():
        return float("nan")
    return float((pred[interior] < 0.5).mean())


def evaluate(
    pred: np.ndarray, gt: np.ndarray, region: _Region = None, occluded: list[np.ndarray] = ()
) -> dict[str, float]:
    """All metrics for one prediction; SAD_OCC sums over the GT regions of occluded objects."""
    scores = {
        "SAD": sad(pred, gt, region),
        "MSE": mse(pred, gt, region),
        "Grad": grad(pred, gt, region),
        "Conn": conn(pred, gt, region),
        "SAD_FG": sad_fg(pred, gt),
        "SAD_BG": sad_bg(pred, gt),
    }
    if len(occluded):
        occ = np.zeros(np.shape(gt), bool)
        for other in occluded:
            occ |= np.asarray(other) > 0
        scores["SAD_OCC"] = sad(pred, gt, occ & (np.asarray(gt) <= 0))
    holes = interior_holes(pred, gt)
    if not np.isnan(holes):  # targets without an opaque interior (faint, thin) have no score
        scores["Holes"] = holes
    return scores
