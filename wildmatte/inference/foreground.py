"""Foreground colours, cutouts and composites from an image and its alpha."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import ImageColor

from wildmatte.data.imageio import read_rgb
from wildmatte.errors import InputError

FOREGROUND_METHODS = ("blur", "ml")
# Blur fusion's two passes (Forte & Pitié 2021): a wide box blur for the smooth colours, then a
# narrow one for the detail near the edge. Radii as the paper's (90 then 6 px).
BLUR_RADII = (90, 6)
_EPS = 1e-5


def estimate_foreground(image: np.ndarray, alpha: np.ndarray, method: str = "blur") -> np.ndarray:
    """Foreground colours F with I ≈ αF + (1−α)B, H×W×3 float32 in [0, 1]. `method`: "blur"
    (blur fusion: box blurs, fast from the first call) or "ml" (pymatting's multi-level
    estimator; its numba compile takes about a minute on first use in a fresh environment)."""
    if method == "blur":
        return blur_fusion(image, alpha)
    if method == "ml":
        from wildmatte.inference.pymatting_import import load_pymatting

        fg = load_pymatting().estimate_foreground_ml(
            image.astype(np.float64), alpha.astype(np.float64)
        )
        return np.clip(fg, 0.0, 1.0).astype(np.float32)
    raise ValueError(f"unknown foreground method {method!r}: expected one of {FOREGROUND_METHODS}")


def _blur_pass(
    image: np.ndarray, fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """One blur-fusion step: local means of F (weighted by α) and of B (by 1−α), then F moved
    along the compositing equation so that αF + (1−α)B reproduces the image."""
    size = (radius, radius)
    a = alpha[..., None]
    blur_a = cv2.blur(alpha, size)[..., None]
    mean_f = cv2.blur(fg * a, size) / (blur_a + _EPS)
    mean_b = cv2.blur(bg * (1.0 - a), size) / (1.0 - blur_a + _EPS)
    fg = mean_f + a * (image - a * mean_f - (1.0 - a) * mean_b)
    return np.clip(fg, 0.0, 1.0), mean_b


def blur_fusion(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blur-fusion foreground estimate (Forte & Pitié 2021, "Approximate fast foreground colour
    estimation"): exact where α = 1, the background's colour removed where α is soft."""
    image = image.astype(np.float32)
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    fg, bg = image, image
    for radius in BLUR_RADII:
        fg, bg = _blur_pass(image, fg, bg, alpha, radius)
    return fg.astype(np.float32)


def cutout(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """H×W×4 RGBA float32: the foreground colours with alpha as the fourth channel."""
    return np.concatenate([foreground, alpha[..., None]], axis=2).astype(np.float32)


def parse_background(spec: str | os.PathLike, shape: tuple[int, int]) -> np.ndarray:
    """An H×W×3 background from a colour ('white', '#00b140', '0,177,64') or an image path
    (resized to cover the shape, centre-cropped)."""
    text = str(spec)
    try:
        rgb = ImageColor.getrgb(text if "," not in text else f"rgb({text})")
        return np.broadcast_to(np.array(rgb[:3], np.float32) / 255.0, (*shape, 3)).copy()
    except ValueError:
        pass
    if not os.path.exists(text):
        raise InputError(text, "background is neither a colour nor an existing image file")
    return fit_background(read_rgb(Path(text)), shape)


def fit_background(bg: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize an image to cover `shape` keeping its aspect ratio, then centre-crop."""
    h, w = shape
    scale = max(h / bg.shape[0], w / bg.shape[1])
    size = (max(w, round(bg.shape[1] * scale)), max(h, round(bg.shape[0] * scale)))
    bg = cv2.resize(bg, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y, x = (bg.shape[0] - h) // 2, (bg.shape[1] - w) // 2
    return bg[y : y + h, x : x + w]


def composite(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """αF + (1−α)B."""
    a = alpha[..., None]
    return (a * foreground + (1.0 - a) * background).astype(np.float32)
