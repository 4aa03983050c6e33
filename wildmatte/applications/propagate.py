"""Carrying a mask from one frame to the next, so that only the first frame needs one.

A `Propagator` is anything with `next_mask(prev_frame, frame, prev_alpha) -> mask`; the
default follows the previous alpha with dense optical flow. A video object segmentation (VOS)
model fits the same interface (see docs/video.md).
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from wildmatte.evaluation.temporal import warp
from wildmatte.inference.io import to_uint

# DIS preset and finest pyramid level: the presets stop at ¼ (fast) or ½ (medium) resolution,
# which lost a 5 px/frame object on a 96×128 clip (IoU 0.49 after 7 frames of warping the
# mask alone); the full-resolution level kept 0.81.
PRESETS = {
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_FAST, 1),
    "medium": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 0),
}


class Propagator(Protocol):
    def next_mask(
        self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray
    ) -> np.ndarray:
        """Binary H×W float32 guidance for `frame` (RGB float in [0, 1]), given the previous
        frame and the alpha matted on it."""
        ...


def guidance_kernel(shape: tuple[int, int]) -> int:
    """Dilation (px, odd) of the guidance: the paper's 25 px at ~1200 px short side, scaled."""
    return max(3, int(round(0.02 * min(shape))) | 1)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(to_uint(rgb), cv2.COLOR_RGB2GRAY)


def keep_overlapping(binary: np.ndarray, core: np.ndarray) -> np.ndarray:
    """The connected components of `binary` that touch `core`; the largest one if none does."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    if n <= 1:
        return binary.astype(np.uint8)
    touched = np.unique(labels[(core > 0) & (labels > 0)])
    if touched.size == 0:
        touched = np.array([1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))])
    return np.isin(labels, touched).astype(np.uint8)


def consistent(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """H×W bool: where the backward flow (current → previous) and the forward flow at its
    end point cancel (within 1 px + 10%). Fails where the background reappears behind a moving
    object, whose backward flow points into the object: such pixels must not inherit its alpha.
    """
    there = warp(forward, backward)
    error = np.linalg.norm(backward + there, axis=2)
    return error <= 1.0 + 0.1 * np.linalg.norm(backward, axis=2)


class FlowPropagator:
    """Warp the previous alpha along DIS optical flow (OpenCV), then clean it into guidance.

    Steps: backward flow frame → previous frame; warp the previous alpha; drop it where the
    forward flow disagrees (`consistent`: disocclusions; costs a second flow); binarise at 0.5;
    close small gaps; keep the components that overlap the warped sure interior (alpha ≥ 0.95,
    which stray flow noise rarely reaches); dilate like the paper's benchmark guidance
    (alpha ≥ 0.5 dilated by a square kernel, here scaled with the frame: `guidance_kernel`).
    If nothing survives, the previous frame's mask is reused as is.
    """

    def __init__(
        self, preset: str = "medium", kernel: int | None = None, consistency: bool = True
    ) -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}: expected one of {list(PRESETS)}")
        code, finest = PRESETS[preset]
        self.flow = cv2.DISOpticalFlow_create(code)
        self.flow.setFinestScale(finest)
        self.kernel = kernel
        self.consistency = consistency

    def next_mask(
        self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray
    ) -> np.ndarray:
        current, previous = _grey(frame), _grey(prev_frame)
        flow = self.flow.calc(current, previous, None)
        warped = warp(prev_alpha, flow)
        if self.consistency:
            warped *= consistent(flow, self.flow.calc(previous, current, None))
        binary = (warped >= 0.5).astype(np.uint8)
        close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, close)
        binary = keep_overlapping(binary, warped >= 0.95)
        if not binary.any():
            binary = (prev_alpha >= 0.5).astype(np.uint8)
        k = self.kernel or guidance_kernel(frame.shape[:2])
        return cv2.dilate(binary, np.ones((k, k), np.uint8)).astype(np.float32)
