"""`Matter`: the Python entry point. Load once, then matte images with their masks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from wildmatte import __version__
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import DEFAULT_WEIGHTS, Engine, get_engine
from wildmatte.inference.prompts import mask_from_box
from wildmatte.model import weight_paths, weights_info


def as_image(image: np.ndarray | Image.Image) -> np.ndarray:
    """H×W×3 float32 RGB in [0, 1] from a PIL image or an array (uint8, uint16 or float in
    [0, 1]; grey and RGBA accepted, alpha dropped)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    a = np.asarray(image)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        a = a.astype(np.float32) / 65535.0
    else:
        a = a.astype(np.float32)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an H×W, H×W×3 or H×W×4 image, got shape {a.shape}")
    return np.clip(a[..., :3], 0.0, 1.0)


def as_mask(mask: np.ndarray | Image.Image, shape: tuple[int, int]) -> np.ndarray:
    """Binary H×W float32 from a PIL image or array: >= 128 for uint8, >= 0.5 for floats/bools."""
    if isinstance(mask, Image.Image):
        mask = np.asarray(mask.convert("L"))
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[..., 0]
    if m.shape != tuple(shape):
        raise ValueError(f"mask shape {m.shape} differs from the image's {tuple(shape)}")
    if m.dtype == np.uint8:
        binary = m >= 128
    elif m.dtype == np.uint16:
        binary = m >= 32768
    else:
        binary = m.astype(np.float32) >= 0.5
    if not binary.any():
        raise ValueError("mask is empty: nothing to matte")
    return binary.astype(np.float32)


def _weights_file(engine: str, weights: str | os.PathLike | None) -> Path | None:
    """The weight file a `prn` engine loaded: the bundled default, a path, or none (a config
    name gives a randomly initialised model)."""
    if engine != "prn":
        return None
    path = weight_paths(weights)[0] if weights is not None else DEFAULT_WEIGHTS
    return path if path.is_file() else None


class Matter:
    """Mask-guided matting: `Matter.from_pretrained().predict(image, mask)`."""

    def __init__(self, engine: Engine, weights: Path | None = None) -> None:
        self.engine = engine
        self.weights = weights  # the .safetensors file behind a `prn` engine, if it has one

    @classmethod
    def from_pretrained(
        cls,
        weights: str | os.PathLike | None = None,
        device: str | None = None,
        engine: str = "prn",
        hires: bool = True,
    ) -> Matter:
        """The bundled default model (weights=None), a `.safetensors` path (with its `.json`
        beside it), or a config name (`prn`, `prn-light`, `prn-tiny`: randomly initialised).
        `engine="classic"` needs no weights. Images over 2 MP go coarse to fine (a global pass,
        then full-resolution tiles on the edges) unless `hires=False`."""
        return cls(get_engine(engine, weights, device, hires=hires), _weights_file(engine, weights))

    @property
    def name(self) -> str:
        return self.engine.name

    def info(self) -> dict[str, str]:
        """wildmatte's version, the engine, and for weights from a file, the file and its release
        fields: tag, sha256, recipe, licence (the bundled default has all four)."""
        info = {"version": __version__, "engine": self.name}
        return info | (weights_info(self.weights) if self.weights else {})

    def predict(
        self,
        image: np.ndarray | Image.Image,
        mask: np.ndarray | Image.Image | None = None,
        box: tuple[float, float, float, float] | None = None,
    ) -> np.ndarray:
        """Alpha matte of the object given by a mask, or by a box (x0, y0, x1, y1) in pixels,
        x1 and y1 exclusive, whose coarse mask GrabCut finds: H×W float32 in [0, 1]."""
        img = as_image(image)
        if (mask is None) == (box is None):
            raise ValueError("give either a mask or a box")
        guidance = as_mask(mask, img.shape[:2]) if box is None else mask_from_box(img, box)
        return self.engine(img, guidance)

    def foreground(self, image: np.ndarray | Image.Image, alpha: np.ndarray) -> np.ndarray:
        """Foreground colours (H×W×3 float32) with the background's colour spill removed."""
        return fgmod.estimate_foreground(as_image(image), alpha)

    def cutout(
        self,
        image: np.ndarray | Image.Image,
        mask: np.ndarray | Image.Image | None = None,
        alpha: np.ndarray | None = None,
    ) -> np.ndarray:
        """RGBA cutout (H×W×4 float32): estimated foreground colours plus alpha.
        Give the mask (the alpha is predicted) or an alpha already predicted."""
        img = as_image(image)
        alpha = self._alpha(img, mask, alpha)
        return fgmod.cutout(fgmod.estimate_foreground(img, alpha), alpha)

    def composite(
        self,
        image: np.ndarray | Image.Image,
        background: str | np.ndarray | Image.Image,
        mask: np.ndarray | Image.Image | None = None,
        alpha: np.ndarray | None = None,
    ) -> np.ndarray:
        """The object over a new background (a colour like 'white' or '#00b140', an image path,
        or an image), H×W×3 float32."""
        img = as_image(image)
        alpha = self._alpha(img, mask, alpha)
        shape = img.shape[:2]
        if isinstance(background, (str, os.PathLike)):
            bg = fgmod.parse_background(background, shape)
        else:
            bg = fgmod.fit_background(as_image(background), shape)
        return fgmod.composite(fgmod.estimate_foreground(img, alpha), alpha, bg)

    def _alpha(self, img: np.ndarray, mask, alpha) -> np.ndarray:
        if alpha is not None:
            return np.asarray(alpha, np.float32)
        if mask is None:
            raise ValueError("give a mask or an alpha")
        return self.engine(img, as_mask(mask, img.shape[:2]))
