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
# Grey-level standard deviation (0-255, over 7×7) under which a pixel is "flat": there, optical
# flow is a guess (any motion matches) and the forward-backward check fails at random.
FLAT_STD = 4.0
# The guidance may keep less than the object's carried shape; under this share of it, the
# carry is not trusted and the previous mask is added back.
KEEP_SHARE = 0.8
# The object's carried shape is replaced by the model's mask when that loses under LOSE of it
# and adds under ADD (shares of the shape's area).
LOSE, ADD = 0.03, 0.05


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


def flat(grey: np.ndarray, size: int = 7) -> np.ndarray:
    """H×W bool: where the image has too little texture for optical flow to be trusted."""
    g = grey.astype(np.float32)
    mean = cv2.blur(g, (size, size))
    var = cv2.blur(g * g, (size, size)) - mean * mean
    return var < FLAT_STD**2


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


def _inside(shape: tuple[int, int], margin: int) -> np.ndarray:
    """H×W bool: farther than `margin` px from the border, where flow has little to match."""
    inside = np.zeros(shape, bool)
    inside[margin:-margin, margin:-margin] = True
    return inside


def object_motion(mask: np.ndarray, forward: np.ndarray, trusted: np.ndarray) -> np.ndarray | None:
    """2×3 similarity (shift, rotation, scale) that moves the object from the previous frame
    to this one, fitted (RANSAC) to the forward flow of its trusted pixels; None when under a
    quarter of the object is trusted (too little to measure, as when it leaves the frame) or
    the fit is implausible (over 10% scale or rotation in one frame)."""
    ys, xs = np.nonzero(mask & trusted)
    if len(xs) < max(20, 0.25 * mask.sum()):
        return None
    src = np.stack([xs, ys], 1).astype(np.float32)
    dst = src + forward[ys, xs]
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if m is None or np.abs(m[:, :2] - np.eye(2)).max() > 0.1:
        return None
    return m


class FlowPropagator:
    """Warp the previous alpha along DIS optical flow (OpenCV), joined with the object's shape
    carried as a whole, then cleaned into guidance.

    Per pixel: backward flow frame → previous frame; warp the previous alpha; drop it where the
    forward flow disagrees (`consistent`: disocclusions; costs a second flow), except where the
    frame is flat (`flat`: there the flow is a guess, and the previous alpha itself is kept);
    binarise at 0.5; close small gaps; keep the components that overlap the warped sure
    interior (alpha ≥ 0.95, which stray flow noise rarely reaches).

    As a whole: the object's shape (the first mask, see `start`) is moved by the similarity
    that fits the flow of its pixels (`object_motion`), so a part that the model dropped, or
    that another object hid for a while, is still in the guidance afterwards. The shape is
    replaced by the model's mask whenever the two agree (LOSE, ADD), or the model's mask has
    the shape's area within ADD but overlaps it less (the shape drifted), which lets it follow
    an object that changes shape; parts that flow out of the frame leave it (an object too
    small to measure keeps its last motion), so an object that leaves the frame ends with an
    empty mask. If the guidance keeps under KEEP_SHARE of the shape, the previous mask is added
    back. The guidance is the union of both, dilated like
    the paper's benchmark guidance (a square kernel, scaled with the frame: `guidance_kernel`).
    `shape` is the object's carried shape in the last frame (what a good alpha should cover).
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
        self.shape: np.ndarray | None = None
        self.motion: np.ndarray | None = None  # the object's last 2×3 motion

    def start(self, mask: np.ndarray) -> None:
        """The object's shape in the frame before the next one (the first mask, or on resume
        the last kept alpha)."""
        self.shape = np.asarray(mask) >= 0.5

    def next_mask(
        self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray
    ) -> np.ndarray:
        current, previous = _grey(frame), _grey(prev_frame)
        backward = self.flow.calc(current, previous, None)
        forward = self.flow.calc(previous, current, None)
        warped = warp(prev_alpha, backward)
        prev_mask = prev_alpha >= 0.5
        trusted = consistent(forward, backward) & ~flat(previous) & _inside(current.shape, 8)
        if self.consistency:
            unsure = flat(current) & flat(previous)
            kept = np.maximum(warped, prev_alpha) * unsure
            warped = np.where(consistent(backward, forward), warped, kept)
        binary = (warped >= 0.5).astype(np.uint8)
        close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, close)
        binary = keep_overlapping(binary, warped >= 0.95)
        shape = self._carry_shape(prev_mask, forward, trusted)
        binary = binary.astype(bool) | shape
        if binary.sum() < KEEP_SHARE * shape.sum():
            binary |= prev_mask
        k = self.kernel or guidance_kernel(frame.shape[:2])
        return cv2.dilate(binary.astype(np.uint8), np.ones((k, k), np.uint8)).astype(np.float32)

    def _carry_shape(
        self, prev_mask: np.ndarray, forward: np.ndarray, trusted: np.ndarray
    ) -> np.ndarray:
        """The object's shape moved into this frame (kept in `self.shape`)."""
        shape = prev_mask if self.shape is None else self.shape
        # Only an alpha that covers the shape replaces it: one that lost a part, even a little
        # a frame, would otherwise wear the shape down with it.
        size, both = shape.sum(), (shape & prev_mask).sum()
        lost, added = size - both, prev_mask.sum() - both
        aligned = lost <= LOSE * size and added <= ADD * size
        # The model kept the whole object (its area) where the shape drifted off it, as the
        # motion of a flat object, fitted to its blurred edge flow, can.
        drifted = both >= 0.5 * size and abs(float(prev_mask.sum()) - size) <= ADD * size
        if aligned or drifted:
            shape = prev_mask
        motion = object_motion(prev_mask if prev_mask.any() else shape, forward, trusted)
        if motion is None:  # too little of it to measure (leaving the frame): keep its motion
            motion = self.motion
        if motion is None:  # no motion yet: measure it on all its pixels
            motion = object_motion(shape, forward, np.ones_like(shape))
        h, w = shape.shape
        if motion is not None:
            moved = cv2.warpAffine(shape.astype(np.uint8), motion, (w, h), flags=cv2.INTER_NEAREST)
            shape = moved.astype(bool)
        self.shape, self.motion = shape, motion
        return shape
