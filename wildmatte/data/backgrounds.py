"""Background sets: any folder of images (COCO train2014, BG-20K, ...), loaded lazily."""

from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.cache import LRUCache
from wildmatte.data.imageio import list_images, read_rgb, read_rgb_u8
from wildmatte.data.paths import expand
from wildmatte.data.split import select, train_val_split

__all__ = ["ImageFolder", "open_backgrounds", "train_val_split"]


class ImageFolder:
    """A folder of images; item i is H×W×3 RGB float32 in [0, 1]."""

    def __init__(
        self, root: str | Path, names: list[str] | None = None, cache_bytes: int = 256 * 2**20
    ) -> None:
        self.root = expand(root)
        self.names = list_images(self.root) if names is None else list(names)
        self._cache = LRUCache(cache_bytes)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> np.ndarray:
        return read_rgb(self.root / self.names[i])

    def read_u8(self, i: int, min_side: int = 0) -> np.ndarray:
        """Item i as uint8 RGB, decoded at the smallest 1/2ⁿ scale whose short side is ≥ min_side.

        JPEG decoding at reduced scale is several times faster; results are cached.
        """
        return self._cache.get(
            (i, min_side), lambda: read_rgb_u8(self.root / self.names[i], min_side)
        )


def open_backgrounds(spec: dict, split: str = "all") -> ImageFolder:
    """A background set from a config entry {"root": ..., "val_fraction": 0.12}."""
    full = ImageFolder(spec["root"])
    return ImageFolder(full.root, select(full.names, split, float(spec.get("val_fraction", 0.12))))


def random_crop_u8(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A size×size crop at a random scale (short side 1–1.5× size), position and flip."""
    h, w = image.shape[:2]
    scale = size * rng.uniform(1.0, 1.5) / min(h, w)
    side = min(h, w, max(1, round(size / scale)))  # the crop in source pixels
    y = rng.integers(0, h - side + 1)
    x = rng.integers(0, w - side + 1)
    patch = image[y : y + side, x : x + side]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(patch), (size, size), interpolation=interp)


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """random_crop_u8 of a uint8 image, as float32 in [0, 1]."""
    return random_crop_u8(image, size, rng).astype(np.float32) * np.float32(1 / 255)
