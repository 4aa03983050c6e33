"""Checks at wildmatte's edges: arrays given to the API, options and output paths of the CLI.

Every check raises one error naming the thing and the problem: InputError (a ValueError too)
for files and options, ValueError/TypeError for arrays passed to the Python API.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from wildmatte.data import imageio
from wildmatte.errors import InputError

# -- arrays given to the API -----------------------------------------------------------------

_PIL_16 = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _pil_array(image: Image.Image, colour: bool) -> np.ndarray:
    """uint8/uint16/float pixels of a PIL image, without losing the bits of 16-bit modes."""
    if image.mode in _PIL_16:
        grey = np.asarray(image)
        if grey.min() < 0 or grey.max() > 65535:
            raise ValueError(f"PIL mode {image.mode} values outside 0..65535")
        return grey.astype(np.uint16)
    if image.mode == "F":
        return np.asarray(image)
    return np.asarray(image.convert("RGB" if colour else "L"))


def unit_float(a: np.ndarray, name: str, clip: bool = False) -> np.ndarray:
    """float32 in [0, 1] from uint8, uint16, bool or float in [0, 1] (NaN refused unless clip)."""
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535.0
    if np.issubdtype(a.dtype, np.integer):
        raise TypeError(
            f"{name}: integer arrays must be uint8 or uint16, not {a.dtype} "
            "(convert with .astype(np.uint8), or pass floats in [0, 1])"
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    with np.errstate(over="ignore"):  # float64 beyond float32's range: inf, refused below
        f = a.astype(np.float32)
    if clip:
        return np.clip(np.nan_to_num(f, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    bad = int(np.count_nonzero(~np.isfinite(f)))
    if bad:
        raise ValueError(f"{name}: {bad} NaN or infinite value(s); fix them or pass clip=True")
    lo, hi = float(f.min()), float(f.max())
    if lo < 0.0 or hi > 1.0:
        hint = " (0-255 floats? divide by 255)" if hi > 1.0 else ""
        raise ValueError(
            f"{name}: float values must lie in [0, 1], found [{lo:g}, {hi:g}]{hint}; "
            "or pass clip=True to clip them"
        )
    return f


def _array(x: object, name: str, colour: bool) -> np.ndarray:
    if isinstance(x, Image.Image):
        return _pil_array(x, colour)
    if isinstance(x, (str, bytes, os.PathLike)) or x is None:
        raise TypeError(f"{name}: expected a numpy array or a PIL image, got {type(x).__name__}")
    try:
        return np.asarray(x)
    except Exception as err:  # ragged lists and other objects numpy cannot hold
        raise TypeError(f"{name}: not an array ({err})") from None


def _check_size(h: int, w: int, name: str) -> None:
    if h == 0 or w == 0:
        raise ValueError(f"{name}: image is empty ({w}×{h})")
    if h * w > imageio.MAX_PIXELS:
        raise ValueError(
            f"{name}: {w}×{h} is over the {imageio.MAX_PIXELS / 1e6:g} MP pixel limit "
            "(wildmatte.data.imageio.MAX_PIXELS)"
        )


def image_array(image: object, clip: bool = False, name: str = "image") -> np.ndarray:
    """H×W×3 float32 RGB in [0, 1] from a PIL image (any mode, I;16 included) or an array
    (uint8, uint16, or float in [0, 1]; grey, H×W×1, RGB and RGBA, alpha dropped)."""
    a = _array(image, name, colour=True)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"{name}: expected an H×W, H×W×3 or H×W×4 image, got shape {a.shape}")
    _check_size(a.shape[0], a.shape[1], name)
    return unit_float(a[..., :3], name, clip)


def mask_array(
    mask: object, shape: tuple[int, int], clip: bool = False, name: str = "mask"
) -> np.ndarray:
    """Binary H×W float32 {0, 1}: >= 128 for uint8, >= 32768 for uint16, >= 0.5 for floats in
    [0, 1] and bools. The first channel of a colour array; the image's shape required."""
    m = _array(mask, name, colour=False)
    if m.ndim == 3 and m.shape[2] > 0:
        m = m[..., 0]
    if m.shape != tuple(shape):
        raise ValueError(f"{name}: shape {m.shape} differs from the image's {tuple(shape)}")
    binary = unit_float(m, name, clip) >= 0.5
    if not binary.any():
        raise ValueError(f"{name}: mask is empty: nothing to matte")
    return binary.astype(np.float32)


def alpha_array(alpha: object, shape: tuple[int, int], clip: bool = False) -> np.ndarray:
    """An alpha matte given back to the API: H×W float in [0, 1] (or uint8/uint16)."""
    a = _array(alpha, "alpha", colour=False)
    if a.shape != tuple(shape):
        raise ValueError(f"alpha: shape {a.shape} differs from the image's {tuple(shape)}")
    return unit_float(a, "alpha", clip)


# -- options ---------------------------------------------------------------------------------


def threshold(value: int) -> int:
    """A mask threshold on the 0-255 scale."""
    if not 0 < value <= 255:
        raise InputError("--threshold", f"{value} is out of range: expected 1-255")
    return value


def max_pixels(megapixels: float) -> int:
    if not megapixels > 0:
        raise InputError("--max-megapixels", f"{megapixels} must be > 0")
    return int(megapixels * 1e6)


def available_devices() -> list[str]:
    import torch

    found = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def device(name: str):
    """A torch.device that exists on this machine, or one line listing those that do."""
    import torch

    where = "--device"
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        dev = None
    ok = dev is not None and (
        dev.type == "cpu"
        or (dev.type == "cuda" and (dev.index or 0) < torch.cuda.device_count())
        or (dev.type == "mps" and torch.backends.mps.is_available())
    )
    if not ok:
        raise InputError(
            where, f"{name!r} is not available here; available: {', '.join(available_devices())}"
        )
    return dev


# -- output paths ----------------------------------------------------------------------------


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file (symlinks and relative paths resolved)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()  # follows symlinks: a link to an input is that input
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _writable_folder(path: Path) -> None:
    """The nearest existing ancestor of `path` must be a folder we may write to."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(path, f"cannot write here: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(path, f"cannot write here: no write permission in {parent}")


def check_outputs(outputs: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Before any work: each output a .png in a writable place, none an input, none twice."""
    sources: dict = {}
    for src in inputs:
        if src is not None:
            sources[src.resolve()] = src
            sources[_identity(src)] = src
    sources.pop(None, None)
    seen: dict[Path, Path] = {}
    folders: set[Path] = set()
    for out in outputs:
        if out.suffix.lower() != ".png":
            raise InputError(
                out,
                "outputs are .png files (the only format here that keeps transparency and 16 bits)",
            )
        if out.is_dir():
            raise InputError(out, "is a folder; give a file name ending in .png")
        src = sources.get(_identity(out)) or sources.get(out.resolve())
        if src is not None:
            raise InputError(out, f"is an input ({src}): it would be overwritten")
        key = out.resolve()
        if key in seen:
            raise InputError(out, f"is given for two outputs (also as {seen[key]})")
        seen[key] = out
        if out.parent not in folders:
            _writable_folder(out)
            folders.add(out.parent)
