"""Temporal coherence of a matted clip (Erofeev et al., "Perceptually motivated benchmark for
video matting", BMVC 2015).

Clips are T×H×W float arrays in [0, 1] (or sequences of H×W arrays). Each metric compares
consecutive frames, so a clip of T frames gives T−1 values; the clip's score is their mean.

- dtSSD: how much the prediction's frame-to-frame change differs from the ground truth's:
  sqrt(mean_p ((α_t − α_{t−1}) − (α*_t − α*_{t−1}))²) × 100.
- MESSDdt: how much the squared error changes along the motion:
  mean_p |E_t(p) − E_{t−1}(p + v_t(p))| × 1000, E = (α − α*)², v_t the backward motion of
  frame t (where each pixel of frame t was in frame t−1); by default estimated from the ground
  truth alphas with OpenCV's DIS optical flow.
Both are per-pixel means, so clips of different sizes compare.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from wildmatte.inference.io import to_uint

DTSSD_SCALE = 100.0
MESSDDT_SCALE = 1000.0


def _clips(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    if pred.ndim != 3 or pred.shape[0] < 2:
        raise ValueError(f"expected T×H×W clips with T >= 2, got shape {pred.shape}")
    return pred, gt


def dtssd_per_frame(pred, gt) -> np.ndarray:
    """dtSSD of each pair of consecutive frames (T−1 values)."""
    pred, gt = _clips(pred, gt)
    diff = np.diff(pred, axis=0) - np.diff(gt, axis=0)
    return np.sqrt((diff**2).mean(axis=(1, 2))) * DTSSD_SCALE


def dtssd(pred, gt) -> float:
    """Mean dtSSD over the clip."""
    return float(dtssd_per_frame(pred, gt).mean())


def backward_flow(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """H×W×2 (dx, dy): where each pixel of `current` was in `previous` (DIS, medium preset)."""
    if max(current.shape[:2]) < 12:
        raise ValueError("DIS flow needs frames of at least 12 px: pass the flows instead")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(to_uint(current), to_uint(previous), None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` sampled at p + flow(p) (bilinear, edges replicated)."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(
        image.astype(np.float32),
        xs + flow[..., 0].astype(np.float32),
        ys + flow[..., 1].astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def messddt_per_frame(pred, gt, flows: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """MESSDdt of each pair of consecutive frames (T−1 values).

    flows[t−1] is frame t's backward motion (H×W×2, dx then dy); None estimates it from gt.
    """
    pred, gt = _clips(pred, gt)
    err = (pred - gt) ** 2
    if flows is not None and len(flows) != len(gt) - 1:
        raise ValueError(f"need {len(gt) - 1} flows for {len(gt)} frames, got {len(flows)}")
    out = []
    for t in range(1, len(gt)):
        flow = flows[t - 1] if flows is not None else backward_flow(gt[t - 1], gt[t])
        out.append(np.abs(err[t] - warp(err[t - 1], flow)).mean())
    return np.asarray(out) * MESSDDT_SCALE


def messddt(pred, gt, flows: Sequence[np.ndarray] | None = None) -> float:
    """Mean MESSDdt over the clip."""
    return float(messddt_per_frame(pred, gt, flows).mean())
