"""Benchmark output files: 8/16-bit PNGs and JSON, all written atomically."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wildmatte.files import write_bytes, write_json, write_text
from wildmatte.inference.io import to_uint

__all__ = ["to_u8", "to_u16", "write_bytes", "write_json", "write_png", "write_text"]


def to_u16(alpha: np.ndarray) -> np.ndarray:
    return to_uint(alpha, 16)


def to_u8(image: np.ndarray) -> np.ndarray:
    return to_uint(image, 8)


def write_png(path: Path, array: np.ndarray) -> Path:
    """A uint8/uint16 grey (H×W) or RGB (H×W×3, RGB order) array as PNG."""
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    return write_bytes(path, encoded.tobytes())
