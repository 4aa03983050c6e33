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
# and adds under ADD (shares of the shape's area), or overlaps it from DRIFT to REPLACE (the
# shape drifted off). LOSE was 0.03 and any overlap over DRIFT counted: a model that misses the
# same thin parts each frame then traded them away 1-2% a frame; on the tuning clips (seeds
# 1-4) the worst clip's mean IoU went from 0.918 to 0.940 with these.
LOSE, ADD = 0.01, 0.05
DRIFT, REPLACE = 0.5, 0.9
# Share of the shape whose flow is not the object's motion over which it counts as occluded
# (then the model's mask, which leaves the occluder out, does not replace the shape).
OCCLUDED = 0.02
# An object's motion changes by at most JUMP px + JUMP_SHARE of its last motion in a frame (the
# fast clips' turns change it by up to 2.5 px); a larger change is taken from another object.
JUMP, JUMP_SHARE = 4.0, 0.5
# The pixel carry is kept within REACH of the object's long side around its carried shape: where
# the model does not trim the guidance (an object over a background of its colours), what it
# keeps behind the object was carried on and grew, a blob's matte to 1.4× its area in 16 frames.
REACH = 0.1
# Mean RGB difference (0-1, blurred) over which a pixel of an occluded object's shape is taken
# as something in front of it; matching caps each pixel's cost there (`_costs`).
UNLIKE = 0.12


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


def near(mask: np.ndarray, share: float) -> np.ndarray:
    """H×W bool: within `share` of the mask's long side (at least 2 px) of the mask."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return np.zeros(mask.shape, bool)
    r = max(2, round(share * max(np.ptp(ys), np.ptp(xs))))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(mask.astype(np.uint8), disc) > 0


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


def object_motion(
    mask: np.ndarray,
    forward: np.ndarray,
    trusted: np.ndarray,
    previous: np.ndarray | None = None,
) -> np.ndarray | None:
    """2×3 similarity (shift, rotation, scale) that moves the object from the previous frame
    to this one, fitted (RANSAC) to the forward flow of its trusted pixels; None when under a
    quarter of the object is trusted (too little to measure, as when it leaves the frame), the
    fit is implausible (over 10% scale or rotation in one frame), or it jumps from the
    `previous` motion and the pixels it leaves out do not fit one closer to it (an occluder
    with more texture than the object outvoted it)."""
    # Flow at the object's edge is blurred with the background's: fit the inside.
    inner = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    ys, xs = np.nonzero(inner & trusted)
    if len(xs) < max(20, 0.25 * inner.sum()):
        return None
    src = np.stack([xs, ys], 1).astype(np.float32)
    dst = src + forward[ys, xs]
    m, inliers = _similarity(src, dst)
    if m is None or previous is None:
        return m
    centre = src.mean(axis=0)
    if not jumps(m, previous, centre):
        return m
    rest = inliers == 0
    if rest.sum() < 20:
        return None
    other, _ = _similarity(src[rest], dst[rest])
    if other is None or _moves_apart(other, previous, centre) >= _moves_apart(m, previous, centre):
        return None
    return other


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if m is None or np.abs(m[:, :2] - np.eye(2)).max() > 0.1:
        return None, np.zeros(len(src), np.uint8)
    return m, inliers.ravel()


def jumps(motion: np.ndarray, previous: np.ndarray, point: np.ndarray) -> bool:
    """Whether `motion` takes `point` (the object's centre) over JUMP px + JUMP_SHARE of the
    `previous` motion's step away from where `previous` would: more than an object changes
    its motion in one frame."""
    step = _moves_apart(previous, None, point)
    return _moves_apart(motion, previous, point) > JUMP + JUMP_SHARE * step


def _moves_apart(a: np.ndarray, b: np.ndarray | None, point: np.ndarray) -> float:
    """How far apart motions `a` and `b` (None: staying put) take `point`, in px."""
    there = a[:, :2] @ point + a[:, 2]
    return float(np.linalg.norm(there - (point if b is None else b[:, :2] @ point + b[:, 2])))


def matched_motion(
    previous: np.ndarray,
    current: np.ndarray,
    mask: np.ndarray,
    reach: float,
    guess: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray | None:
    """2×3 shift that moves the object from the previous frame to this one, found by matching
    its pixels within `reach` px of the `guess` shift (a flat object's pixels match only where
    its edge is; each pixel's cost is capped, `_costs`, so an occluder does not pull the match
    along). For objects too flat for optical flow, whose inside moves anywhere and whose
    edge flow is blurred with the background's. Only pixels that every shift searched keeps in
    view are matched; None when under a quarter of the object is (it is leaving the frame)."""
    ring = mask.astype(np.uint8)
    ys, xs = np.nonzero(ring)
    if ys.size == 0:
        return None
    # Matching costs template area × positions: do it with the object at most 96 px long.
    s = min(1.0, 96 / (max(ys.max() - ys.min(), xs.max() - xs.min()) + 1))
    r = max(1, round(reach * s))
    gx, gy = (round(g * s) for g in guess)
    small = lambda x, inter: cv2.resize(x, None, fx=s, fy=s, interpolation=inter)  # noqa: E731
    ring = small(ring, cv2.INTER_NEAREST)
    h, w = ring.shape
    used = np.zeros_like(ring)
    # Kept in view by every shift within r of the guess.
    top, left = max(0, r - gy), max(0, r - gx)
    used[top : max(top, h - r - gy), left : max(left, w - r - gx)] = 1
    used &= ring
    if used.sum() < 0.25 * ring.sum():
        return None
    p = r + max(abs(gx), abs(gy))
    pad = lambda x: cv2.copyMakeBorder(x, p, p, p, p, cv2.BORDER_CONSTANT, value=0)  # noqa: E731
    prev, cur = (pad(small(x, cv2.INTER_AREA)) for x in (previous, current))
    used = pad(used)
    ys, xs = np.nonzero(used)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    window = cur[top + gy - r : bottom + gy + r, left + gx - r : right + gx + r]
    fit = _costs(window, prev[top:bottom, left:right], used[top:bottom, left:right])
    y, x = np.unravel_index(np.argmin(fit), fit.shape)
    # To a fraction of a pixel (a parabola through the minimum and its neighbours): whole
    # pixels of the reduced frame are over a pixel of the frame, and a slow object's shape,
    # moved a whole one each frame, drifted off it (1.2 px a frame for 0.6).
    dy, dx = _vertex(fit[y - 1 : y + 2, x]), _vertex(fit[y, x - 1 : x + 2])
    return np.float32([[1, 0, (gx + x + dx - r) / s], [0, 1, (gy + y + dy - r) / s]])


def _costs(window: np.ndarray, templ: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Cost of the template at each position in the window (as cv2.matchTemplate's TM_SQDIFF
    with a mask), but each pixel's squared colour difference capped at 3·UNLIKE². Capped,
    something passing in front costs the same at every shift; summed as it is, a flower
    crossing a flat flag pulled its match along, 0.9 → 2.3 px a frame in 10 frames."""
    th, tw = mask.shape
    rows, cols = window.shape[0] - th + 1, window.shape[1] - tw + 1
    cap, weight = np.float32(3 * UNLIKE**2), mask.astype(np.float32)
    fit = np.empty((rows, cols), np.float32)
    for y in range(rows):  # (2r+1)² small array operations: 20 ms for r = 6 at 96×96
        for x in range(cols):
            d = window[y : y + th, x : x + tw] - templ
            fit[y, x] = (np.minimum(np.einsum("ijk,ijk->ij", d, d), cap) * weight).sum()
    return fit


def _vertex(f: np.ndarray) -> float:
    """Offset (-½ to ½) of the minimum of the parabola through three values, the middle one
    least; 0 without both neighbours."""
    if len(f) < 3:
        return 0.0
    curve = f[0] - 2 * f[1] + f[2]
    return float(np.clip(0.5 * (f[0] - f[2]) / curve, -0.5, 0.5)) if curve > 0 else 0.0


def moving_apart(motion: np.ndarray, backward: np.ndarray, trusted: np.ndarray) -> np.ndarray:
    """H×W bool: trusted pixels whose flow is not the object's motion (by over 2 px + half the
    motion): something else passing in front of it, such as an occluder, which the pixel carry
    would otherwise take along as part of the object."""
    h, w = backward.shape[:2]
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    inverse = cv2.invertAffineTransform(motion)
    ex = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2] - xs
    ey = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2] - ys
    off = np.hypot(backward[..., 0] - ex, backward[..., 1] - ey)
    return trusted & (off > 2.0 + 0.5 * np.hypot(ex, ey))


class FlowPropagator:
    """Warp the previous alpha along DIS optical flow (OpenCV), joined with the object's shape
    carried as a whole, then cleaned into guidance.

    Per pixel: backward flow frame → previous frame; warp the previous alpha; drop it where the
    forward flow disagrees (`consistent`: disocclusions; costs a second flow), except where the
    frame is flat (`flat`: there the flow is a guess, and the previous alpha itself is kept);
    binarise at 0.5; close small gaps; keep the components that overlap the warped sure
    interior (alpha ≥ 0.95, which stray flow noise rarely reaches); keep it `near` the
    object's carried shape (REACH).

    As a whole: the object's shape (the first mask, see `start`) is moved by the object's
    motion: the similarity that fits the flow of its pixels (`object_motion`), or for an
    object too flat for flow the shift that matches its pixels (`matched_motion`, searched
    around where the last motion would take it); a motion
    that jumps from the last (`jumps`: an occluder took the measure with it) is not used. So
    a part that the model dropped, or that another object hid for a while, is still in the
    guidance afterwards. The shape is its anchor moved by the motions since, composed; it is
    re-anchored on the model's mask when the two agree (LOSE, ADD) or the shape drifted off the
    object (DRIFT, REPLACE), in both cases only when the mask has the object's area within ADD,
    and never while something passes in front (`moving_apart`, OCCLUDED), which lets it follow
    an object that changes shape; parts that move out of the frame leave it (an object too
    small to measure keeps its last motion), so an object that leaves the frame ends with an
    empty mask. If the guidance keeps under KEEP_SHARE of the shape, the previous mask is added
    back. The guidance is the union of both (the shape alone while occluded), less what moves
    apart from the object (and while occluded, what does not look like it: `_unlike`), dilated
    like
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
        # The shape is its anchor (the mask it was last replaced by) moved by the motions
        # since, composed: warping the moved shape again each frame rounds it to whole pixels
        # each time, which wore a panned object's shape down to 79% of it in 60 frames.
        self.anchor: np.ndarray | None = None
        self.pose = np.eye(3, dtype=np.float64)
        self.look: np.ndarray | None = None  # the frame of the anchor (RGB)
        self.motion: np.ndarray | None = None  # the object's last 2×3 motion
        self.matched = False  # that motion was found by matching the object's pixels
        self.area: float | None = None  # the object's area, as first given, scaled as it moved
        self.occluded = False  # something moved in front of the object in the last frame

    def start(self, mask: np.ndarray) -> None:
        """The object's shape in the frame before the next one (the first mask, a keyframe's,
        or on resume the last kept alpha). Its motion is forgotten: a keyframe may start a new
        shot."""
        self.shape = self.anchor = np.asarray(mask) >= 0.5
        self.pose = np.eye(3, dtype=np.float64)
        self.look = None
        self.area = float(self.shape.sum())
        self.motion, self.matched, self.occluded = None, False, False

    def next_mask(
        self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray
    ) -> np.ndarray:
        current, previous = _grey(frame), _grey(prev_frame)
        backward = self.flow.calc(current, previous, None)
        forward = self.flow.calc(previous, current, None)
        prev_mask = prev_alpha >= 0.5
        # Each used twice below: computed once (whole-frame work on every frame).
        flat_prev, flat_now = flat(previous), flat(current)
        back_ok, inside = consistent(backward, forward), _inside(current.shape, 8)
        trusted = consistent(forward, backward) & ~flat_prev & inside
        occluded = self.occluded
        shape = self._carry_shape(prev_mask, forward, trusted, (prev_frame, frame))
        if occluded:  # the mask holds parts of what passes in front: the shape alone is the object
            binary = np.zeros_like(shape)
        elif self.matched:  # flow cannot follow this object's pixels: carry its mask as a whole
            h, w = prev_mask.shape
            binary = cv2.warpAffine(
                prev_mask.astype(np.uint8), self.motion, (w, h), flags=cv2.INTER_NEAREST
            )
        else:
            binary = self._carry_pixels(prev_alpha, backward, back_ok, flat_prev & flat_now)
            binary &= near(shape, REACH)
        binary = binary.astype(bool) | shape
        if binary.sum() < KEEP_SHARE * shape.sum() and not occluded:
            binary |= prev_mask
        self.occluded = False
        if self.motion is not None:
            apart = moving_apart(self.motion, backward, back_ok & ~flat_now & inside)
            apart = apart.astype(np.uint8)
            close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
            apart = cv2.morphologyEx(apart, cv2.MORPH_CLOSE, close) > 0
            binary &= ~apart
            # Something passes in front: the model's next mask is not the object's whole shape.
            self.occluded = (apart & shape).sum() > OCCLUDED * shape.sum()
            if self.occluded or occluded:  # its flat parts too: they do not look like the object
                binary &= ~self._unlike(frame, shape)
        k = self.kernel or guidance_kernel(frame.shape[:2])
        return cv2.dilate(binary.astype(np.uint8), np.ones((k, k), np.uint8)).astype(np.float32)

    def _unlike(self, frame: np.ndarray, shape: np.ndarray) -> np.ndarray:
        """Pixels of the shape whose colour is not the object's where it was anchored."""
        h, w = shape.shape
        seen = cv2.warpAffine(self.look, self.pose[:2], (w, h), flags=cv2.INTER_LINEAR)
        blur = lambda x: cv2.GaussianBlur(x, (0, 0), 2.0)  # noqa: E731
        diff = np.abs(blur(frame.astype(np.float32)) - blur(seen)).mean(axis=2)
        unlike = (diff > UNLIKE).astype(np.uint8)
        unlike = cv2.morphologyEx(unlike, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
        return unlike & shape

    def _carry_pixels(
        self,
        prev_alpha: np.ndarray,
        backward: np.ndarray,
        back_ok: np.ndarray,
        unsure: np.ndarray,
    ) -> np.ndarray:
        """The previous alpha moved pixel by pixel along the flow, binarised and cleaned;
        `back_ok`: where the backward flow is `consistent`, `unsure`: flat in both frames."""
        warped = warp(prev_alpha, backward)
        if self.consistency:
            kept = np.maximum(warped, prev_alpha) * unsure
            warped = np.where(back_ok, warped, kept)
        binary = (warped >= 0.5).astype(np.uint8)
        close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, close)
        return keep_overlapping(binary, warped >= 0.95)

    def _carry_shape(
        self,
        prev_mask: np.ndarray,
        forward: np.ndarray,
        trusted: np.ndarray,
        frames: tuple[np.ndarray, np.ndarray],
    ) -> np.ndarray:
        """The object's shape moved into this frame (kept in `self.shape`)."""
        if self.shape is None:
            self.start(prev_mask)
        shape = self.shape
        h, w = shape.shape
        size, both = shape.sum(), (shape & prev_mask).sum()
        lost, added = size - both, prev_mask.sum() - both
        # Only an alpha that covers the shape and has the object's area replaces it: one that
        # loses (or adds) a little a frame would otherwise wear the shape down (or grow it) with
        # it, as a blob over a tree of its colours did, to IoU 0.6 in 40 frames.
        area = self.area if self.area is not None else float(size)
        as_large = abs(float(prev_mask.sum()) - area) <= ADD * area
        aligned = lost <= LOSE * size and added <= ADD * size and as_large
        # The model kept the whole object (its area) where the shape drifted off it, as the
        # motion of a flat object, fitted to its blurred edge flow, can.
        drifted = DRIFT * size <= both < REPLACE * size and as_large
        if (aligned or drifted) and not self.occluded:
            shape = self.anchor = prev_mask
            self.pose = np.eye(3, dtype=np.float64)
            self.look = None
        if self.look is None:  # the anchor's frame: what the object looks like
            self.look = frames[0].astype(np.float32)
        moving = prev_mask if prev_mask.any() else shape
        motion = object_motion(moving, forward, trusted, self.motion)
        self.matched = False
        if motion is None:  # too flat for flow: match its pixels
            # Against the object as anchored, moved by the pose so far, not the last frame:
            # matching errors (a fraction of a pixel, more while an occluder's edge sweeps over
            # it) are then corrected, not added up into a drift off the object.
            seen = cv2.warpAffine(self.look, self.pose[:2], (w, h), flags=cv2.INTER_LINEAR)
            ys, xs = np.nonzero(shape)
            reach, guess = 0.1 * max(h, w), (0.0, 0.0)
            if self.motion is not None and ys.size:
                # Only where the last motion would take it, within what a motion may change
                # in a frame (any other shift is a jump): a wide search kept a flat disc
                # turning at the border from being matched, and its shape ran off.
                centre = np.float32([xs.mean(), ys.mean()])
                guess = tuple(self.motion[:, :2] @ centre + self.motion[:, 2] - centre)
                reach = 1 + JUMP + JUMP_SHARE * float(np.hypot(*guess))
            motion = matched_motion(seen, frames[1], shape, reach, guess)
            if motion is not None and self.motion is not None and ys.size:
                # What passes in front can take the match with it (32 px off in one frame).
                if jumps(motion, self.motion, np.float32([xs.mean(), ys.mean()])):
                    motion = None
            self.matched = motion is not None
        if motion is None:  # too little of it to measure (leaving the frame): keep its motion
            motion = self.motion
        if motion is None:  # no motion yet: measure it on all its pixels
            motion = object_motion(shape, forward, np.ones_like(shape))
        if motion is not None:
            self.pose = np.vstack([motion, [0, 0, 1]]) @ self.pose
            moved = cv2.warpAffine(
                self.anchor.astype(np.uint8), self.pose[:2], (w, h), flags=cv2.INTER_NEAREST
            )
            shape = moved.astype(bool)
            area *= abs(float(np.linalg.det(motion[:, :2])))
        self.shape, self.motion, self.area = shape, motion, area
        return shape
