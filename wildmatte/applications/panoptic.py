"""Panoptic matting: every segment of a label map matted with its own mask, then combined into
a soft partition of the image (alphas that are non-negative and sum to 1 at every pixel).

Label maps: a single-channel PNG (8- or 16-bit, one integer per segment) or a COCO panoptic
PNG (segment id = R + 256·G + 256²·B) with its JSON for the categories.
"""

from __future__ import annotations

import colorsys
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from wildmatte.errors import InputError
from wildmatte.files import write_json
from wildmatte.inference.engines import Engine
from wildmatte.inference.io import read_image, write_png


@dataclass
class Segment:
    id: int
    label: str | None = None
    category_id: int | None = None
    area: int = 0


def decode_labels(raw: np.ndarray, coco: bool) -> np.ndarray:
    """H×W int64 ids from a decoded PNG (OpenCV's BGR order): grey as is; with `coco`, colour as
    COCO's R + 256·G + 256²·B. Without `coco`, a colour file whose channels are all equal is
    read as grey, and one whose channels differ is a ValueError: its ids would be a guess."""
    if raw.ndim == 2:
        return raw.astype(np.int64)
    bgr = raw[..., :3].astype(np.int64)
    if not coco:
        if not (bgr == bgr[..., :1]).all():
            raise ValueError(
                "a colour label map (its channels differ): for a COCO panoptic PNG give its "
                "JSON with --coco-json, otherwise a single-channel (grey) label map"
            )
        return bgr[..., 0]
    return bgr[..., 2] + 256 * bgr[..., 1] + 256 * 256 * bgr[..., 0]


def read_labels(path: str | os.PathLike, coco: bool = False) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    raw = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise InputError(path, "not a readable label map")
    try:
        return decode_labels(raw, coco)
    except ValueError as err:
        raise InputError(path, str(err)) from None


def coco_segments(json_path: str | os.PathLike, labels_name: str) -> dict[int, Segment]:
    """Segments of one image from a COCO panoptic JSON, by id, with their category names."""
    path = Path(json_path)
    try:
        doc = json.loads(path.read_text())
        categories = {c["id"]: c["name"] for c in doc.get("categories", [])}
        annotations = doc["annotations"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(path, f"not a COCO panoptic JSON ({type(err).__name__}: {err})") from None
    match = [a for a in annotations if Path(a.get("file_name", "")).name == labels_name]
    if not match and len(annotations) == 1:
        match = annotations
    if not match:
        raise InputError(path, f"no annotation with file_name {labels_name!r}")
    return {
        int(s["id"]): Segment(int(s["id"]), categories.get(s["category_id"]), s["category_id"])
        for s in match[0].get("segments_info", [])
    }


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def radii(shape: tuple[int, int]) -> tuple[int, int]:
    """(sure, reach) in px: a segment's alpha is 1 deeper than `sure` inside its mask and 0
    further than `reach` outside it; 1% and 3% of the short side."""
    short = min(shape)
    return max(2, round(0.01 * short)), max(3, round(0.03 * short))


def soft_partition(
    alphas: np.ndarray, masks: np.ndarray, ignore: np.ndarray | None = None
) -> np.ndarray:
    """N×H×W weights from N segment alphas and their N disjoint binary masks.

    Each segment is 1 on its eroded mask (where its mask is sure) and 0 beyond its dilated
    mask; between, the alphas are normalised to sum to 1. A pixel no segment claims falls back
    to its own mask. Ignored pixels are 0 in every segment.
    """
    n, h, w = alphas.shape
    sure_r, reach_r = radii((h, w))
    masks = masks.astype(np.uint8)
    weights = np.clip(alphas, 0.0, 1.0).astype(np.float32)
    sure = np.zeros((h, w), np.int64) - 1
    for i in range(n):
        weights[i] *= cv2.dilate(masks[i], _disk(reach_r))
        sure[cv2.erode(masks[i], _disk(sure_r), borderType=cv2.BORDER_REPLICATE) > 0] = i
    hard = sure >= 0
    weights[:, hard] = 0.0
    weights[sure[hard], np.nonzero(hard)[0], np.nonzero(hard)[1]] = 1.0
    total = weights.sum(axis=0)
    unclaimed = total <= 1e-6
    weights[:, unclaimed] = masks[:, unclaimed]
    total = weights.sum(axis=0)
    valid = total > 0
    weights[:, valid] /= total[valid]
    if ignore is not None:
        weights[:, ignore] = 0.0
    return weights


def matte_segments(
    engine: Engine, image: np.ndarray, masks: np.ndarray, batch_size: int = 8
) -> np.ndarray:
    """N×H×W alphas, each segment's mask as its guidance; batched when the engine can."""
    if batch_size < 1:
        raise ValueError(f"batch size {batch_size} must be at least 1")
    batch = getattr(engine, "batch", None)
    out = []
    for start in range(0, len(masks), batch_size):
        chunk = masks[start : start + batch_size].astype(np.float32)
        if batch is not None:
            out.extend(batch(image, chunk))
        else:
            out.extend(engine(image, m) for m in chunk)
    return np.stack(out).astype(np.float32)


def colour(segment_id: int) -> np.ndarray:
    """A bright colour per id, spread round the hue circle (golden ratio)."""
    hue = (segment_id * 0.618033988749895) % 1.0
    return np.array(colorsys.hsv_to_rgb(hue, 0.75, 0.95), np.float32)


def visualise(weights: np.ndarray, ids: list[int]) -> np.ndarray:
    """H×W×3: each segment's colour blended by its alpha (ignored pixels stay black)."""
    palette = np.stack([colour(i) for i in ids])
    return np.einsum("nhw,nc->hwc", weights, palette)


@dataclass
class PanopticResult:
    segments: list[Segment]
    alphas: np.ndarray  # N×H×W soft partition
    visual: np.ndarray


def panoptic_matte(
    engine: Engine,
    image: np.ndarray,
    labels: np.ndarray,
    ignore: list[int] | tuple[int, ...] = (),
    known: dict[int, Segment] | None = None,
    batch_size: int = 8,
) -> PanopticResult:
    """Matte every segment of `labels` (H×W ints) in `image`; see `soft_partition`."""
    if labels.shape != image.shape[:2]:
        raise ValueError(
            f"label map is {labels.shape[1]}×{labels.shape[0]} but the image is "
            f"{image.shape[1]}×{image.shape[0]}"
        )
    ids, areas = np.unique(labels, return_counts=True)
    keep = ~np.isin(ids, list(ignore))
    ids, areas = ids[keep], areas[keep]
    if ids.size == 0:
        raise ValueError("no segments: every pixel carries an ignored label")
    known = known or {}
    segments = []
    for i, area in zip(ids, areas):
        info = known.get(int(i), Segment(int(i)))
        segments.append(Segment(int(i), info.label, info.category_id, int(area)))
    masks = np.stack([labels == s.id for s in segments]).astype(np.uint8)
    alphas = matte_segments(engine, image, masks, batch_size)
    weights = soft_partition(alphas, masks, np.isin(labels, list(ignore)))
    return PanopticResult(segments, weights, visualise(weights, [s.id for s in segments]))


def check_outputs(out: Path, ids: list[int], inputs: list[Path]) -> None:
    """Refuse an output folder that is an input file, or outputs that would overwrite one."""
    if out.exists() and not out.is_dir():
        raise InputError(out, "output folder is an existing file (an input?): choose another --out")
    taken = {p.resolve() for p in inputs}
    names = [f"{i}.png" for i in ids] + ["segments.json", "visual.png"]
    for name in names:
        if (out / name).resolve() in taken:
            raise InputError(out / name, "output would overwrite an input: choose another --out")


def run_panoptic(
    engine: Engine,
    image_path: str | os.PathLike,
    labels_path: str | os.PathLike,
    out: str | os.PathLike,
    coco_json: str | os.PathLike | None = None,
    ignore: list[int] | None = None,
    batch_size: int = 8,
) -> PanopticResult:
    """Read, matte every segment, then write OUT/<id>.png, segments.json and visual.png."""
    image_path, labels_path, out = Path(image_path), Path(labels_path), Path(out)
    image = read_image(image_path)
    coco = coco_json is not None
    labels = read_labels(labels_path, coco)
    known = coco_segments(coco_json, labels_path.name) if coco else {}
    ignore = list(ignore or []) + ([0] if coco else [])  # COCO's 0 is unlabelled
    if labels.shape != image.shape[:2]:
        raise InputError(
            labels_path,
            f"label map is {labels.shape[1]}×{labels.shape[0]} but "
            f"the image is {image.shape[1]}×{image.shape[0]}",
        )
    ids = [int(i) for i in np.unique(labels) if int(i) not in ignore]
    if not ids:
        raise InputError(labels_path, "no segments: every pixel carries an ignored label")
    inputs = [image_path, labels_path] + ([Path(coco_json)] if coco else [])
    check_outputs(out, ids, inputs)
    result = panoptic_matte(engine, image, labels, ignore, known, batch_size)
    for seg, alpha in zip(result.segments, result.alphas):
        write_png(out / f"{seg.id}.png", alpha)
    write_png(out / "visual.png", result.visual)
    write_json(out / "segments.json", [vars(s) | {"file": f"{s.id}.png"} for s in result.segments])
    return result
