"""Atomic output files: each is written to a temp file in its folder, then renamed into place.

A crash or Ctrl-C never leaves a half-written PNG or JSON behind, which keeps resumable runs
honest (a file that exists is a complete file).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np


def write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, doc: object) -> Path:
    return write_text(path, json.dumps(doc, indent=2) + "\n")


def to_u16(alpha: np.ndarray) -> np.ndarray:
    return np.round(np.clip(alpha, 0.0, 1.0) * 65535.0).astype(np.uint16)


def to_u8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_png(path: Path, array: np.ndarray) -> Path:
    """A uint8/uint16 grey (H×W) or RGB (H×W×3, RGB order) array as PNG."""
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    return write_bytes(path, encoded.tobytes())
