"""Reading image files as float32 arrays in [0, 1], with clear errors for bad files.

Every file goes through `load_image`: the header is checked against a pixel limit before any
pixel is decoded (a 167-byte PNG may declare 30000×30000), the EXIF orientation is applied (so
arrays are what a viewer shows), and a truncated or corrupt file is one InputError, with nothing
printed by a codec.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from wildmatte.errors import InputError, first_line

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}

# Largest image read, in pixels: WILDMATTE_MAX_PIXELS, or `wildmatte predict --max-megapixels`.
MAX_PIXELS = int(float(os.environ.get("WILDMATTE_MAX_PIXELS", 100e6)))

# EXIF orientation → the numpy operation that shows the image upright (as ImageOps.exif_transpose).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, 3),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


def list_images(root: Path) -> list[str]:
    """Sorted names of the image files directly inside root."""
    if not root.is_dir():
        raise InputError(root, "not a folder")
    names = sorted(p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not names:
        raise InputError(root, "no image files found")
    return names


def _open(path: Path, max_pixels: int) -> Image.Image:
    """The lazily opened file (header only), refused when over the pixel limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise InputError(path, f"image is over the {max_pixels / 1e6:g} MP pixel limit") from None
    except Exception as err:
        raise InputError(path, f"not a readable image ({first_line(err)})") from None
    w, h = image.size
    if w == 0 or h == 0:
        image.close()
        raise InputError(path, f"image has no pixels ({w}×{h})")
    if w * h > max_pixels:
        image.close()
        raise InputError(
            path,
            f"image is {w}×{h} ({w * h / 1e6:.0f} MP), over the {max_pixels / 1e6:g} MP pixel "
            "limit (raise it with --max-megapixels or WILDMATTE_MAX_PIXELS)",
        )
    return image


@contextmanager
def _quiet_stderr():
    """Silence C libraries writing to file descriptor 2 (Python's sys.stderr is untouched)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _is_deep_colour(image: Image.Image) -> bool:
    """16 bits per colour channel, which PIL would decode to 8 bits."""
    return image.mode in ("RGB", "RGBA") and any(";16" in str(t[3]) for t in image.tile)


def _pixels(image: Image.Image, data: bytes | None) -> np.ndarray:
    """uint8/uint16 H×W, H×W×3 (RGB) or H×W×4 (RGBA) from a loaded PIL image."""
    if data is not None:  # 16-bit colour: OpenCV keeps all the bits (PIL verified the file)
        with _quiet_stderr():  # libpng prints its own complaints about files PIL let through
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        code = cv2.COLOR_BGRA2RGBA if decoded.shape[2] == 4 else cv2.COLOR_BGR2RGB
        return cv2.cvtColor(decoded, code)
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I"):
        grey = np.asarray(image)
        if grey.min() < 0 or grey.max() > 65535:
            raise ValueError("32-bit integer pixels are out of the 16-bit range")
        return grey.astype(np.uint16)
    if mode == "F":
        raise ValueError("floating-point image files are not supported")
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"))
    if mode in ("RGB", "RGBA"):
        return np.asarray(image)
    transparent = mode in ("LA", "PA", "La") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if transparent else "RGB"))


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """The one way files are read: uint8 or uint16 pixels, upright (EXIF orientation applied).

    Grey files give H×W, colour H×W×3 (RGB), files with transparency H×W×4 (RGBA).
    Raises InputError for a missing, unreadable, truncated or too large file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    limit = MAX_PIXELS if max_pixels is None else int(max_pixels)
    with _open(path, limit) as image:
        deep = _is_deep_colour(image)  # before getexif(), which may decode the file
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:  # a broken EXIF block: the pixels may still be fine
            orientation = 1
        try:
            image.load()  # decodes, and raises on a truncated or corrupt file
            pixels = _pixels(image, path.read_bytes() if deep else None)
        except Exception as err:
            raise InputError(path, f"not a readable image ({first_line(err)})") from None
    upright = _ORIENT.get(orientation, lambda a: a)(pixels)
    return np.ascontiguousarray(upright)


_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _reduction(path: Path, min_side: int) -> int:
    """Largest 1/2ⁿ decoding scale that keeps the short side ≥ min_side."""
    try:
        with Image.open(path) as image:
            short = min(image.size)
    except Exception as error:
        raise InputError(path, f"not a readable image ({error})") from None
    factor = 1
    while factor < 8 and short // (factor * 2) >= min_side:
        factor *= 2
    return factor


def read_rgb_u8(path: Path, min_side: int = 0) -> np.ndarray:
    """H×W×3 RGB uint8, decoded at reduced scale when the short side allows (fast for JPEG).

    Training data only (OpenCV applies the EXIF orientation itself here).
    """
    if not path.is_file():
        raise InputError(path, "file not found")
    factor = _reduction(path, min_side) if min_side > 0 else 1
    image = cv2.imread(str(path), _REDUCED[factor])
    if image is None:
        raise InputError(path, "not a readable image")
    if image.dtype != np.uint8:
        image = (image // 257).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _to_unit(image: np.ndarray) -> np.ndarray:
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    return image.astype(np.float32) / scale


def read_rgb(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """H×W×3 RGB float32 in [0, 1]; grey and RGBA (alpha dropped) files are converted."""
    image = load_image(path, max_pixels)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return _to_unit(image[..., :3])


def read_rgba(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(H×W×3 RGB, H×W alpha) float32 in [0, 1] from a file with an alpha channel."""
    image = load_image(path)
    if image.ndim != 3 or image.shape[2] != 4:
        raise InputError(path, "expected an RGBA image with an alpha channel")
    return _to_unit(image[..., :3]), _to_unit(image[..., 3])


def read_alpha(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """H×W float32 in [0, 1] from a matte or mask file.

    Grey files as they are; colour files by their brightest channel, so that a mask painted in
    any colour on black reads as a mask (a grey matte saved as colour repeats its value); files
    with transparency by their alpha channel (a mask painted on a transparent layer).
    """
    image = load_image(path, max_pixels)
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3]
        image = alpha if alpha.min() < np.iinfo(alpha.dtype).max else image[..., :3]
    if image.ndim == 3:
        image = image.max(axis=2)
    return _to_unit(image)
