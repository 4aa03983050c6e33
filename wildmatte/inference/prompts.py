"""Cheap prompts turned into the coarse mask the model expects: a box, by GrabCut."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from wildmatte.errors import InputError

Box = tuple[int, int, int, int]
MIN_BOX = 2  # px a side: GrabCut needs an inside and an edge


def _numbers(values: Sequence[object], shown: object) -> Box:
    """Four finite numbers rounded to ints; ValueError naming the box otherwise."""
    if len(values) != 4:
        raise ValueError(f"box {shown!r} must be four numbers X0,Y0,X1,Y1")
    try:
        floats = [float(v) for v in values]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"box {shown!r} must be four numbers X0,Y0,X1,Y1") from None
    if not all(math.isfinite(v) for v in floats):  # inf, 1e400 and nan have no pixel
        raise ValueError(f"box {shown!r} must be four finite numbers (pixels)")
    return tuple(int(round(v)) for v in floats)  # type: ignore[return-value]


def parse_box(text: str) -> Box:
    """'X0,Y0,X1,Y1' (pixels; x1, y1 exclusive) as a tuple of ints."""
    return _numbers([p.strip() for p in str(text).split(",")], text)


def check_box(box: Sequence[float], shape: tuple[int, int]) -> Box:
    """The box as ints, clipped to the image; ValueError when inverted, empty, outside it or
    under MIN_BOX pixels a side once clipped.

    The one validator of boxes: `--box`, `Matter.predict(box=)` and the web demo all use it.
    A box that pokes out of the image a little (as detectors' boxes do) is clipped; one with no
    pixel inside the image is an error.
    """
    x0, y0, x1, y1 = _numbers(tuple(box), tuple(box))
    h, w = shape
    if x1 < x0 or y1 < y0:
        raise ValueError(f"box {(x0, y0, x1, y1)} is inverted: need x0 <= x1 and y0 <= y1")
    if x1 == x0 or y1 == y0:
        raise ValueError(f"box {(x0, y0, x1, y1)} is empty")
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        raise ValueError(f"box {(x0, y0, x1, y1)} lies outside the {w}×{h} image")
    if min(cx1 - cx0, cy1 - cy0) < min(MIN_BOX, w, h):
        raise ValueError(
            f"box {(x0, y0, x1, y1)} is too small: {cx1 - cx0}×{cy1 - cy0} px inside the image "
            f"(at least {MIN_BOX}×{MIN_BOX}); draw it around the object"
        )
    return cx0, cy0, cx1, cy1


def mask_from_box(
    image: np.ndarray, box: Sequence[float], iterations: int = 3, max_side: int = 512
) -> np.ndarray:
    """Binary H×W float32 mask of the object in `box`, by GrabCut (OpenCV) on the image.

    image: H×W×3 RGB, float in [0, 1] or uint8. Big images are cut on a copy downscaled to
    `max_side` (GrabCut's cost grows with the pixel count; the model refines the edge anyway).
    When GrabCut finds nothing (or the box leaves no background to learn from), the box
    itself is the mask.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = check_box(box, (h, w))
    rect_mask = np.zeros((h, w), np.float32)
    rect_mask[y0:y1, x0:x1] = 1.0
    scale = min(1.0, max_side / max(h, w))
    small = _as_u8(image)
    if scale < 1.0:
        small = cv2.resize(
            small, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
    sh, sw = small.shape[:2]
    sx0, sy0 = int(x0 * scale), int(y0 * scale)
    sx1, sy1 = max(sx0 + 1, min(sw, round(x1 * scale))), max(sy0 + 1, min(sh, round(y1 * scale)))
    if sx0 == 0 and sy0 == 0 and sx1 == sw and sy1 == sh:
        return rect_mask  # no pixel outside the box: GrabCut has no background model
    labels = np.zeros((sh, sw), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    rect = (sx0, sy0, sx1 - sx0, sy1 - sy0)
    cv2.grabCut(small, labels, rect, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    fg = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    if scale < 1.0:
        fg = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    mask = (fg >= 0.5).astype(np.float32) * rect_mask
    return mask if mask.any() else rect_mask


def _as_u8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image[..., :3])
    return np.ascontiguousarray(np.rint(np.clip(image[..., :3], 0, 1) * 255).astype(np.uint8))


def read_boxes(path: str | os.PathLike) -> dict[str, Box]:
    """Boxes by image stem from a JSON file ({"stem": [x0, y0, x1, y1], ...}) or a CSV file
    (rows `stem,x0,y0,x1,y1`; a header row is skipped). Keys may carry a file suffix."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "boxes file not found")
    try:
        if path.suffix.lower() == ".json":
            doc = json.loads(path.read_text())
            if not isinstance(doc, dict):
                raise ValueError("expected an object mapping image stems to boxes")
            items = [
                (k, v if isinstance(v, str) else ",".join(map(str, v))) for k, v in doc.items()
            ]
        else:
            rows = [r for r in csv.reader(path.read_text().splitlines()) if r]
            if rows and not _is_number(rows[0][-1]):
                rows = rows[1:]
            items = [(r[0], ",".join(r[1:])) for r in rows]
        return {Path(k).stem: parse_box(v) for k, v in items}
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise InputError(path, f"bad boxes file: {err}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
