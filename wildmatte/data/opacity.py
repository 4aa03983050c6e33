"""Partial opacity for real cutouts (glass, veils, sheer fabric, motion blur), and its counterpart.

Procedural glass and smoke teach soft alpha on blobs only; a real cutout made see-through
teaches that an object's own texture does not mean it is opaque. Layers are channels-first
(fg 3×S×S, alpha 1×S×S), float32 in [0, 1], as the dataset warps them.
"""

from __future__ import annotations

import cv2
import numpy as np

from wildmatte.data.procedural import blob_outline, fill, motion_blur

KINDS = ("uniform", "graded", "motion")


def uniform(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The whole object at one opacity, often below 0.5 everywhere (a window pane, a veil)."""
    return alpha * np.float32(rng.uniform(0.15, 0.85))


def graded(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Opacity ramping linearly across the object in a random direction (a fading scarf)."""
    size = alpha.shape[-1]
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    t = np.cos(angle) * xs + np.sin(angle) * ys
    inside = alpha[0] > 0.5
    lo, hi = (t[inside].min(), t[inside].max()) if inside.any() else (t.min(), t.max())
    t = np.clip((t - lo) / max(hi - lo, 1.0), 0, 1)
    start, end = rng.uniform(0.05, 0.6), rng.uniform(0.5, 1.0)
    return alpha * (start + (end - start) * t)[None].astype(np.float32)


def motion(fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> tuple:
    """A box blur along a random direction on premultiplied colour (a fast-moving object)."""
    size = alpha.shape[-1]
    length = max(3, int(rng.uniform(0.02, 0.1) * size) | 1)
    colour, blurred = motion_blur(fg.transpose(1, 2, 0), alpha[0], rng.uniform(0, 180), length)
    return np.ascontiguousarray(colour.transpose(2, 0, 1)), blurred[None]


def make_partial(fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> tuple:
    """One of the three kinds, drawn uniformly: (fg, alpha) with the object partly transparent."""
    kind = KINDS[int(rng.integers(len(KINDS)))]
    if kind == "uniform":
        return fg, uniform(alpha, rng)
    if kind == "graded":
        return fg, graded(alpha, rng)
    return motion(fg, alpha, rng)


def coverage(alpha: np.ndarray, level: float = 0.05) -> np.ndarray:
    """What a person's mask of a see-through object covers: everywhere it shows at all."""
    return (alpha > level).astype(np.float32)


def _core_pixel(alpha: np.ndarray, rng: np.random.Generator) -> tuple:
    """(the opaque core 7 px in from the edge, a random (x, y) in it), or (None, None) if tiny."""
    size = alpha.shape[-1]
    core = cv2.erode((alpha[0] > 0.99).astype(np.uint8), np.ones((7, 7), np.uint8))
    ys, xs = np.nonzero(core)
    if len(ys) < 0.01 * size * size:
        return None, None
    k = int(rng.integers(len(ys)))
    return core, np.array([xs[k], ys[k]], float)


def _paint(fg: np.ndarray, region: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """fg with patch blended in over region (H×W weights in [0, 1]), as float32 in [0, 1]."""
    return np.clip(fg + region[None] * (patch - fg), 0, 1).astype(np.float32)


def camouflage(
    fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """fg with a patch of background-like colour painted inside its opaque core; alpha unchanged.

    The counterpart of a see-through object: coffee the colour of the table, a spoon that
    reflects it. The patch is the background taken from elsewhere (shifted, maybe mirrored,
    blurred and tinted), so it does not continue the background around the object as a real
    hole or a see-through object does; only that continuity tells the two apart.
    """
    size = alpha.shape[-1]
    core, centre = _core_pixel(alpha, rng)
    if core is None:
        return fg
    radius = rng.uniform(0.05, 0.25) * size
    region = fill(size, [blob_outline(rng, centre, radius)])
    region = cv2.GaussianBlur(region, (0, 0), 1.0) * core
    shift = rng.integers(int(0.15 * size), int(0.85 * size) + 1, 2)
    patch = np.roll(bg, tuple(shift), axis=(1, 2))
    if rng.random() < 0.5:
        patch = patch[:, :, ::-1]
    sigma = rng.uniform(0, 2)
    if sigma > 0.3:
        patch = cv2.GaussianBlur(patch.transpose(1, 2, 0), (0, 0), sigma).transpose(2, 0, 1)
    return _paint(fg, region, patch * rng.uniform(0.7, 1.2, (3, 1, 1)).astype(np.float32))


def attachment(
    fg: np.ndarray, alpha: np.ndarray, other: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """fg with a small distinct part painted inside its opaque core; alpha unchanged.

    A badge, a name tag or a ribbon bar on a jacket: sharp-edged, unlike its surroundings, and
    part of the object. In the instance-wise samples a distinct thing over the target is the
    other layer, left out of its alpha and of its guidance; here the guidance covers it.
    other: the colour to paint (3×S×S), e.g. the other layer's or the background.
    """
    size = alpha.shape[-1]
    core, centre = _core_pixel(alpha, rng)
    if core is None:
        return fg
    if rng.random() < 0.5:  # a rotated rectangle: tags, bars, labels
        w, h = rng.uniform(0.03, 0.2, 2) * size
        box = cv2.boxPoints(((centre[0], centre[1]), (w, h), rng.uniform(0, 180)))
        region = fill(size, [box])
    else:
        region = fill(size, [blob_outline(rng, centre, rng.uniform(0.02, 0.1) * size)])
    region = region * core
    shift = rng.integers(0, size, 2)
    patch = np.roll(other, tuple(shift), axis=(1, 2))
    return _paint(fg, region, patch * rng.uniform(0.6, 1.4, (3, 1, 1)))
