"""A user's own trimap (`wildmatte predict --trimap FILE`), as pymatting's users bring one.

The file is grey: 0 is sure background, 255 sure foreground, anything between (128, say) is
unknown; pymatting's thresholds (≤ 0.1 background, ≥ 0.9 foreground) decide. The classic engines
solve on it as it is. The learned engines take a binary mask, so they get the unknown region and
the foreground together (the object grown by half the band, like the loose masks they were
trained on), and their alpha is then held to the trimap: 1 on its foreground, 0 on its
background.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.imageio import read_alpha
from wildmatte.errors import InputError
from wildmatte.inference.engines import ClassicEngine, Engine

BACKGROUND, FOREGROUND = 0.1, 0.9  # pymatting's trimap_split thresholds
# The mask threshold (of 255) that reads a trimap's unknown and foreground as the guidance.
GUIDANCE_THRESHOLD = 26


def read_trimap(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """H×W float64 trimap in {0, 0.5, 1}; InputError for a file with nothing to matte."""
    values = read_alpha(path, max_pixels)
    trimap = np.full(values.shape, 0.5)
    trimap[values <= BACKGROUND] = 0.0
    trimap[values >= FOREGROUND] = 1.0
    if not (trimap > 0).any():
        raise InputError(path, "trimap is all background (0): nothing to matte")
    return trimap


class TrimapEngine:
    """An engine run on a fixed trimap: see the module's docstring for what each kind does."""

    def __init__(self, engine: Engine, trimap: np.ndarray) -> None:
        self.engine = engine
        self.trimap = trimap
        self.name = engine.name

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        trimap = self._fitted(image.shape[:2])
        fg, bg = trimap == 1.0, trimap == 0.0
        if isinstance(self.engine, ClassicEngine):  # (hires wraps the learned engines only)
            alpha = solve_classic(self.engine.method, image, trimap)
        else:
            alpha = self.engine(image, (trimap > 0).astype(np.float32))
        alpha = alpha.astype(np.float32, copy=True)
        alpha[fg], alpha[bg] = 1.0, 0.0
        return alpha

    def _fitted(self, shape: tuple[int, int]) -> np.ndarray:
        """The trimap at the image's size (nearest: it stays three-level), for --resize-mask."""
        if self.trimap.shape == tuple(shape):
            return self.trimap
        return cv2.resize(self.trimap, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def solve_classic(method: str, image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """pymatting's `method` ("cf", "knn", "lkm") on the trimap as given."""
    if not (trimap == 0.5).any():  # nothing unknown: the trimap is the answer
        return (trimap == 1.0).astype(np.float32)
    from wildmatte.inference.pymatting_import import load_pymatting

    estimate = getattr(load_pymatting(), f"estimate_alpha_{method}")
    return np.clip(estimate(image.astype(np.float64), trimap), 0, 1).astype(np.float32)
