"""Reading photos and masks, writing mattes: one-line errors for bad files, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.imageio import read_alpha, read_rgb
from wildmatte.errors import InputError
from wildmatte.files import write_bytes

PathLike = str | os.PathLike


def read_image(path: PathLike, max_pixels: int | None = None) -> np.ndarray:
    """H×W×3 RGB float32 in [0, 1], upright (EXIF orientation applied); grey, RGBA (alpha
    dropped) and 16-bit files are converted. Files over `max_pixels` are refused unread."""
    return read_rgb(Path(path), max_pixels)


def binarize(mask: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """{0, 1} float32 mask from values in [0, 1]: 1 where mask >= threshold."""
    return (np.asarray(mask) >= threshold).astype(np.float32)


def read_mask(
    path: PathLike,
    shape: tuple[int, int] | None = None,
    threshold: int = 128,
    resize: bool = False,
    max_pixels: int | None = None,
) -> np.ndarray:
    """Binary H×W float32 guidance from a grey/binary file, 1 where value >= threshold (of 255).

    With `shape` (the image's H, W), a mask of another size is an error unless `resize` is set;
    then it is resized (bilinear, before thresholding) to the image.
    """
    path = Path(path)
    mask = read_alpha(path, max_pixels)  # [0, 1], 8- or 16-bit, upright
    if shape is not None and mask.shape != tuple(shape):
        if not resize:
            raise InputError(
                path,
                f"mask is {mask.shape[1]}×{mask.shape[0]} but the image is "
                f"{shape[1]}×{shape[0]} (use --resize-mask to resize it)",
            )
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    binary = binarize(mask, threshold / 255.0)
    if not binary.any():
        raise InputError(path, f"mask is empty (no pixel >= {threshold}): nothing to matte")
    return binary


def to_uint(x: np.ndarray, bits: int = 8) -> np.ndarray:
    """[0, 1] floats rounded (not truncated) to uint8 or uint16."""
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, not {bits}")
    top = 255 if bits == 8 else 65535
    out = np.rint(np.clip(x, 0.0, 1.0) * top)
    return out.astype(np.uint8 if bits == 8 else np.uint16)


def write_png(path: PathLike, image: np.ndarray, bits: int = 8) -> Path:
    """Write a grey (H×W), RGB or RGBA image as PNG, atomically: the one PNG writer.

    Floats in [0, 1] are rounded to `bits`; uint8 and uint16 arrays are written as they are.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(path, "output must be a .png file")
    data = image if image.dtype in (np.uint8, np.uint16) else to_uint(image, bits)
    if data.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR
        data = cv2.cvtColor(data, code)
    ok, buf = cv2.imencode(".png", data)
    if not ok:
        raise InputError(path, "could not encode PNG")
    write_bytes(path, buf.tobytes())
    return path
