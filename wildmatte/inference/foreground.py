"""Foreground colours, cutouts and composites from an image and its alpha."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import ImageColor

from wildmatte.data.imageio import read_rgb
from wildmatte.errors import InputError


def estimate_foreground(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Foreground colours F with I ≈ αF + (1−α)B (pymatting's multi-level estimator)."""
    from pymatting import estimate_foreground_ml

    fg = estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64))
    return np.clip(fg, 0.0, 1.0).astype(np.float32)


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
