"""`Matter`: the Python entry point. Load once, then matte images with their masks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from wildmatte import __version__, validate
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import DEFAULT_WEIGHTS, Engine, default_engine, get_engine
from wildmatte.inference.prompts import mask_from_box
from wildmatte.model import weight_paths, weights_info


def as_image(image: np.ndarray | Image.Image, clip: bool = False) -> np.ndarray:
    """H×W×3 float32 RGB in [0, 1] from a PIL image (any mode, I;16 included) or an array
    (uint8, uint16 or float in [0, 1]; grey and RGBA accepted, alpha dropped). Floats outside
    [0, 1], NaN and infinities are a ValueError unless `clip` (then clipped, NaN as 0)."""
    return validate.image_array(image, clip)


def as_mask(
    mask: np.ndarray | Image.Image, shape: tuple[int, int], clip: bool = False
) -> np.ndarray:
    """Binary H×W float32 from a PIL image or array: >= 128 for uint8, >= 0.5 for floats/bools."""
    return validate.mask_array(mask, shape, clip)


def _weights_file(engine: str, weights: str | os.PathLike | None) -> Path | None:
    """The `.safetensors` file a `prn` or `onnx` engine runs: the bundled default or a path."""
    if engine not in ("prn", "onnx") or str(weights or "").endswith(".onnx"):
        return None
    path = weight_paths(weights)[0] if weights is not None else DEFAULT_WEIGHTS
    return path if path.is_file() else None


class Matter:
    """Mask-guided matting: `Matter.from_pretrained().predict(image, mask)`."""

    def __init__(self, engine: Engine, weights: Path | None = None) -> None:
        self.engine = engine
        self.weights = weights  # the .safetensors file behind a learned engine, if it has one

    @classmethod
    def from_pretrained(
        cls,
        weights: str | os.PathLike | None = None,
        device: str | None = None,
        engine: str | None = None,
        hires: bool = True,
        init: str | None = None,
        model: str = "prn-light",
        threads: int | None = None,
        band_solve: bool = False,
    ) -> Matter:
        """The bundled default model (weights=None) or a `.safetensors` path (with its `.json`
        beside it); `init="random"` for an untrained `model` (`prn`, `prn-light`, `prn-tiny`;
        tests only). `engine`: None for the default (as `wildmatte predict`: onnxruntime on a
        CPU where it works, else torch), or a name (`prn`, `onnx`, `classic` needs no weights
        …). Bad files raise ValueError. Images over 2 MP go coarse to fine (a global pass, then
        full-resolution tiles on the edges) unless `hires=False`. `threads`: onnxruntime's per
        call (None: one per core; a server running calls side by side wants fewer).
        `band_solve=True` refines a learned engine's uncertain band with closed-form matting
        (wildmatte.inference.band_solve; slower)."""
        if engine is None and init is None:
            engine_ = default_engine(
                weights, device, hires=hires, threads=threads, band_solve=band_solve
            )
        else:
            name = engine or "prn"
            engine_ = get_engine(
                name,
                weights,
                device,
                hires=hires,
                init=init,
                model=model,
                threads=threads,
                band_solve=band_solve,
            )
        return cls(engine_, None if init else _weights_file(engine_.name, weights))

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
        clip: bool = False,
    ) -> np.ndarray:
        """Alpha matte of the object given by a mask, or by a box (x0, y0, x1, y1) in pixels,
        x1 and y1 exclusive, whose coarse mask GrabCut finds: H×W float32 in [0, 1].

        Images: uint8, uint16, float in [0, 1] or PIL; `clip=True` clips other floats (and
        turns NaN into 0) instead of refusing them."""
        img = as_image(image, clip)
        if (mask is None) == (box is None):
            raise ValueError("give either a mask or a box")
        guidance = as_mask(mask, img.shape[:2], clip) if box is None else mask_from_box(img, box)
        return self.engine(img, guidance)

    def foreground(
        self, image: np.ndarray | Image.Image, alpha: np.ndarray, clip: bool = False
    ) -> np.ndarray:
        """Foreground colours (H×W×3 float32) with the background's colour spill removed."""
        img = as_image(image, clip)
        return fgmod.estimate_foreground(img, validate.alpha_array(alpha, img.shape[:2], clip))

    def cutout(
        self,
        image: np.ndarray | Image.Image,
        mask: np.ndarray | Image.Image | None = None,
        alpha: np.ndarray | None = None,
        clip: bool = False,
    ) -> np.ndarray:
        """RGBA cutout (H×W×4 float32): estimated foreground colours plus alpha.
        Give the mask (the alpha is predicted) or an alpha already predicted."""
        img = as_image(image, clip)
        alpha = self._alpha(img, mask, alpha, clip)
        return fgmod.cutout(fgmod.estimate_foreground(img, alpha), alpha)

    def composite(
        self,
        image: np.ndarray | Image.Image,
        background: str | np.ndarray | Image.Image,
        mask: np.ndarray | Image.Image | None = None,
        alpha: np.ndarray | None = None,
        clip: bool = False,
    ) -> np.ndarray:
        """The object over a new background (a colour like 'white' or '#00b140', an image path,
        or an image), H×W×3 float32."""
        img = as_image(image, clip)
        alpha = self._alpha(img, mask, alpha, clip)
        shape = img.shape[:2]
        if isinstance(background, (str, os.PathLike)):
            bg = fgmod.parse_background(background, shape)
        else:
            bg = fgmod.fit_background(validate.image_array(background, clip, "background"), shape)
        return fgmod.composite(fgmod.estimate_foreground(img, alpha), alpha, bg)

    def _alpha(self, img: np.ndarray, mask, alpha, clip: bool) -> np.ndarray:
        if alpha is not None:
            return validate.alpha_array(alpha, img.shape[:2], clip)
        if mask is None:
            raise ValueError("give a mask or an alpha")
        return self.engine(img, as_mask(mask, img.shape[:2], clip))
