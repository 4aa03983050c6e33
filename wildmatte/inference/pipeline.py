"""One photo + mask file in, matte files out: what `wildmatte predict` does per image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wildmatte.errors import InputError
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import Engine
from wildmatte.inference.io import read_image, read_mask, write_png
from wildmatte.inference.prompts import Box, mask_from_box


@dataclass
class Outputs:
    """Where to write; None skips that output."""

    alpha: Path
    cutout: Path | None = None
    composite: Path | None = None
    background: str = "white"
    bits: int = 8


@dataclass
class Options:
    threshold: int = 128
    resize_mask: bool = False
    max_pixels: int | None = None  # None: wildmatte.data.imageio.MAX_PIXELS


def matte_file(engine: Engine, image_path: Path, mask_path: Path | Box, out: Outputs, opt: Options):
    """Read, predict, and write every requested output; nothing is written if any step fails.
    `mask_path` is a mask file, or a box (x0, y0, x1, y1) whose mask GrabCut finds."""
    image = read_image(image_path, opt.max_pixels)
    if isinstance(mask_path, tuple):
        try:
            mask = mask_from_box(image, mask_path)
        except ValueError as err:
            raise InputError(image_path, str(err)) from None
    else:
        mask = read_mask(mask_path, image.shape[:2], opt.threshold, opt.resize_mask, opt.max_pixels)
    alpha = engine(image, mask)
    results: list[tuple[Path, np.ndarray, int]] = [(out.alpha, alpha, out.bits)]
    if out.cutout or out.composite:
        fg = fgmod.estimate_foreground(image, alpha)
        if out.cutout:
            results.append((out.cutout, fgmod.cutout(fg, alpha), 8))
        if out.composite:
            bg = fgmod.parse_background(out.background, image.shape[:2])
            results.append((out.composite, fgmod.composite(fg, alpha, bg), 8))
    for path, data, bits in results:
        write_png(path, data, bits)
    return [p for p, _, _ in results]
