"""Reading image files as float32 arrays in [0, 1], with clear errors for bad files."""

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from wildmatte.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(root: Path) -> list[str]:
    """Sorted names of the image files directly inside root."""
    if not root.is_dir():
        raise InputError(root, "not a folder")
    names = sorted(p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not names:
        raise InputError(root, "no image files found")
    return names


def _read(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(path, "file not found")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise InputError(path, "not a readable image")
    return image


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
    """H×W×3 RGB uint8, decoded at reduced scale when the short side allows (fast for JPEG)."""
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


def read_rgb(path: Path) -> np.ndarray:
    """H×W×3 RGB float32 in [0, 1]; grey and RGBA files are converted."""
    image = _read(path)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return _to_unit(image)


def read_rgba(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(H×W×3 RGB, H×W alpha) float32 in [0, 1] from a file with an alpha channel."""
    image = _read(path)
    if image.ndim != 3 or image.shape[2] != 4:
        raise InputError(path, "expected an RGBA image with an alpha channel")
    rgb = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2RGB)
    return _to_unit(rgb), _to_unit(image[..., 3])


def read_alpha(path: Path) -> np.ndarray:
    """H×W float32 in [0, 1] from a matte or mask file.

    Grey files as they are; colour files by their brightest channel, so that a mask painted in
    any colour on black reads as a mask (a grey matte saved as colour repeats its value); files
    with transparency by their alpha channel (a mask painted on a transparent layer).
    """
    image = _read(path)
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3]
        image = alpha if alpha.min() < np.iinfo(alpha.dtype).max else image[..., :3]
    if image.ndim == 3:
        image = image.max(axis=2)
    return _to_unit(image)
