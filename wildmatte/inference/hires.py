"""Big photos in bounded memory: a global pass at a working resolution, then full-resolution
refinement on tiles that cover only the uncertain band, blended with a smooth window.

At full resolution a user's mask is off by hundreds of pixels, far from the margins the model
saw in training (512² crops), and the whole network over 27 MP needs about 15 GB. So the global
pass runs at a training-like size (long side `work_side`, guidance downscaled); its alpha,
upsampled, is final wherever it is sure (≤ `low` or ≥ `high`). Around its uncertain band the
model runs again at full resolution on `tile`² crops, guided by the upsampled global alpha
(≥ 0.5): a mask a few pixels off, as in training. Tiles overlap and are blended with weights
that fall off towards their inner edges, so no seam shows.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

Engine = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class HiresOptions:
    max_pixels: float = 2.0e6  # larger images go coarse-to-fine
    work_side: int = 1024  # long side of the global pass
    tile: int = 512
    overlap: int = 96
    low: float = 0.02
    high: float = 0.98
    # Band dilation in global-pass pixels: the global alpha's edge is this far off at most.
    band_radius: float = 3.0
    # Tile guidance: "global" (the upsampled global alpha ≥ 0.5) or "mask" (the user's mask).
    tile_guidance: str = "global"


def resize(x: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    """cv2.resize to (height, width)."""
    return cv2.resize(x, (size[1], size[0]), interpolation=interpolation)


def global_pass(
    engine: Engine, image: np.ndarray, guidance: np.ndarray, work_side: int
) -> np.ndarray:
    """The engine's alpha at a long side of `work_side`, upsampled to the image (float32)."""
    h, w = guidance.shape
    scale = work_side / max(h, w)
    small = (max(1, round(h * scale)), max(1, round(w * scale)))
    img = resize(image, small, cv2.INTER_AREA)
    gd = (resize(guidance, small, cv2.INTER_AREA) >= 0.5).astype(np.float32)
    if not gd.any():  # a thin mask can vanish when downscaled: keep its nearest pixels
        gd = resize(guidance, small, cv2.INTER_NEAREST)
    return resize(engine(img, gd), (h, w), cv2.INTER_LINEAR)


def uncertain_band(alpha: np.ndarray, radius: int, low: float, high: float) -> np.ndarray:
    """uint8 mask of low < alpha < high, dilated by a (2r+1)² square."""
    band = ((alpha > low) & (alpha < high)).astype(np.uint8)
    if radius > 0:
        band = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1,) * 2))
    return band


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of `tile` px covering [0, length) with at least `overlap` shared."""
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def band_tiles(band: np.ndarray, tile: int, overlap: int) -> Iterator[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of each tile that holds a band pixel."""
    h, w = band.shape
    for y in tile_starts(h, tile, overlap):
        for x in tile_starts(w, tile, overlap):
            y1, x1 = min(y + tile, h), min(x + tile, w)
            if band[y:y1, x:x1].any():
                yield y, y1, x, x1


def window(length: int, ramp: int, low_edge: bool, high_edge: bool) -> np.ndarray:
    """1-D blending weights: 1 inside, a linear ramp to near 0 over `ramp` px at each inner edge
    (an edge on the image border keeps full weight: no other tile covers it)."""
    w = np.ones(length, np.float32)
    r = min(ramp, length // 2)
    if r > 0:
        ramp_up = (np.arange(r, dtype=np.float32) + 0.5) / r
        if low_edge:
            w[:r] = ramp_up
        if high_edge:
            w[length - r :] = ramp_up[::-1]
    return w


def refine(
    engine: Engine,
    image: np.ndarray,
    guidance: np.ndarray,
    coarse: np.ndarray,
    opt: HiresOptions,
) -> tuple[np.ndarray, int]:
    """Replace `coarse` inside its uncertain band by the tiles' blended alpha; (alpha, tiles)."""
    h, w = coarse.shape
    scale = max(h, w) / opt.work_side
    band = uncertain_band(coarse, math.ceil(opt.band_radius * scale), opt.low, opt.high)
    tile_gd = (coarse >= 0.5) if opt.tile_guidance == "global" else (guidance >= 0.5)
    total = np.zeros((h, w), np.float32)
    weight = np.zeros((h, w), np.float32)
    count = 0
    for y0, y1, x0, x1 in band_tiles(band, opt.tile, opt.overlap):
        gd = tile_gd[y0:y1, x0:x1].astype(np.float32)
        alpha = engine(image[y0:y1, x0:x1], gd) if gd.any() else gd
        wy = window(y1 - y0, opt.overlap, y0 > 0, y1 < h)
        wx = window(x1 - x0, opt.overlap, x0 > 0, x1 < w)
        win = wy[:, None] * wx[None, :]
        total[y0:y1, x0:x1] += win * alpha
        weight[y0:y1, x0:x1] += win
        count += 1
    inside = (band > 0) & (weight > 0)
    out = coarse
    out[inside] = total[inside] / weight[inside]
    return np.clip(out, 0.0, 1.0), count


class HiresEngine:
    """Wraps an engine: images over `max_pixels` go coarse-to-fine, others straight through."""

    def __init__(
        self,
        base: Engine,
        options: HiresOptions | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.base = base
        self.name = getattr(base, "name", "engine")
        self.options = options or HiresOptions()
        self.notify = notify or (lambda line: print(line, file=sys.stderr))
        self.notified = False
        self.last_tiles = 0

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        opt = self.options
        h, w = guidance.shape
        if h * w <= opt.max_pixels:
            return self.base(image, guidance)
        if not self.notified:
            self.notified = True
            self.notify(
                f"wildmatte: {w}×{h} is over {opt.max_pixels / 1e6:g} MP: coarse-to-fine "
                f"(global pass at {opt.work_side} px, full-resolution tiles on the edges; "
                "--no-hires turns it off)"
            )
        coarse = global_pass(self.base, image, guidance, opt.work_side)
        alpha, self.last_tiles = refine(self.base, image, guidance, coarse, opt)
        return alpha
