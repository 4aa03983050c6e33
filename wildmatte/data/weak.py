"""Weak-supervision data for stage 2: natural images with instance masks, no alpha.

Two layouts:
- COCO instances: a JSON file + an image folder (COCO train2017 itself, or a set made by
  `wildmatte data build-weak`); masks from polygons, compressed or uncompressed RLE.
- plain: `root/images/<name>.<ext>` and `root/masks/<name>/<k>.png`, one binary mask per
  instance (e.g. the output of your own segmenter).

Config (`selftrain.data`):
    {type: coco, annotations: ".../instances_train2017.json", images: ".../train2017"}
    {type: folder, root: ...}
    plus crop_size (512), min_area (0.005), max_area (0.9) as fractions of the image,
    crowd (false: skip iscrowd instances), length (virtual epoch, 10^7).
Each item draws one instance as the target, from (seed, index) alone, and returns both views
(wildmatte.data.views) as tensors.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch
from pycocotools import mask as mask_utils
from torch.utils.data import Dataset

from wildmatte.data.imageio import IMAGE_SUFFIXES, read_rgb_u8
from wildmatte.data.paths import expand
from wildmatte.data.views import ViewOptions, make_views
from wildmatte.errors import InputError

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def expand_placeholders(path: str) -> Path:
    """`{default}` → the shipped default weights, `{data}` → the data root, `~` → home."""
    return expand(str(path).replace("{default}", str(WEIGHTS_DIR / "default.safetensors")))


# -- COCO -----------------------------------------------------------------------------------


def segmentation_mask(segm, height: int, width: int) -> np.ndarray:
    """H×W uint8 {0, 1} mask of a COCO segmentation: polygons, or RLE (counts str or list)."""
    if not isinstance(segm, (list, dict)):
        raise ValueError("segmentation is neither polygons nor RLE")
    try:  # pycocotools raises bare Exceptions for malformed input
        if isinstance(segm, list):  # polygons: one list of x, y per part
            rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
        elif isinstance(segm.get("counts"), list):  # uncompressed RLE
            if sum(segm["counts"]) != height * width:  # pycocotools would read past the end
                raise ValueError(f"RLE counts do not add up to {width}×{height}")
            rle = mask_utils.frPyObjects(segm, height, width)
        else:
            rle = segm
        with warnings.catch_warnings():  # pycocotools' numpy-2 copy= notice, once per call
            warnings.simplefilter("ignore", DeprecationWarning)
            return mask_utils.decode(rle)
    except Exception as err:
        raise ValueError(f"bad segmentation ({err})") from None


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise InputError(path, "annotation file not found")
    try:
        doc = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(path, f"not valid JSON ({err})") from None
    missing = [k for k in ("images", "annotations") if not isinstance(doc, dict) or k not in doc]
    if missing:
        raise InputError(path, f"not a COCO instances file (no {' or '.join(missing)})")
    return doc


def _keep(ann: dict, image: dict, min_area: float, max_area: float, crowd: bool) -> bool:
    if ann.get("iscrowd", 0) and not crowd:
        return False
    area = ann.get("area")
    if area is None:
        try:
            mask = segmentation_mask(ann["segmentation"], image["height"], image["width"])
        except ValueError as err:
            raise ValueError(f"annotation {ann.get('id')}: {err}") from None
        area = float(mask.sum())
    return min_area <= area / float(image["height"] * image["width"]) <= max_area


class CocoEntry(NamedTuple):
    """One kept instance, compact: COCO train2017 has ~860k, copied into every loader worker."""

    file_name: str
    height: int
    width: int
    ann_id: int
    segmentation: str  # JSON text: one object instead of thousands of floats


class CocoInstances:
    """Instances of a COCO instances JSON that pass the filters; item k = (RGB uint8, mask)."""

    def __init__(
        self,
        annotations: str | Path,
        images: str | Path,
        min_area: float = 0.005,
        max_area: float = 0.9,
        crowd: bool = False,
    ) -> None:
        self.json_path, self.root = expand(annotations), expand(images)
        doc = _read_json(self.json_path)
        try:
            by_id = {im["id"]: im for im in doc["images"]}
            self.items = [
                CocoEntry(
                    str(im["file_name"]),
                    int(im["height"]),
                    int(im["width"]),
                    int(a.get("id", -1)),
                    json.dumps(a["segmentation"]),
                )
                for a in doc["annotations"]
                for im in [by_id[a["image_id"]]]
                if _keep(a, im, min_area, max_area, crowd)
            ]
        except (KeyError, TypeError) as err:
            raise InputError(self.json_path, f"malformed COCO entry ({err!r})") from None
        except ValueError as err:
            raise InputError(self.json_path, str(err)) from None
        if not self.items:
            raise InputError(self.json_path, "no instances left after the crowd/area filters")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        entry = self.items[k]
        path = self.root / entry.file_name
        rgb = read_rgb_u8(path)
        h, w = entry.height, entry.width
        if rgb.shape[:2] != (h, w):
            raise InputError(path, f"is {rgb.shape[1]}×{rgb.shape[0]}, annotations say {w}×{h}")
        try:
            mask = segmentation_mask(json.loads(entry.segmentation), h, w)
        except ValueError as err:
            raise InputError(self.json_path, f"annotation {entry.ann_id}: {err}") from None
        if mask.shape != (h, w):
            raise InputError(self.json_path, f"annotation {entry.ann_id}: RLE size is not {w}×{h}")
        return rgb, mask


# -- plain folders --------------------------------------------------------------------------


def _mask_fraction(path: Path) -> float:
    small = cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_4)  # area only: coarse is fine
    if small is None:
        raise InputError(path, "not a readable mask")
    return float((small > 127).mean())


class MaskFolder:
    """`root/images/<name>.*` with `root/masks/<name>/*.png`; item k = (RGB uint8, mask)."""

    def __init__(self, root: str | Path, min_area: float = 0.005, max_area: float = 0.9) -> None:
        self.root = expand(root)
        images, masks = self.root / "images", self.root / "masks"
        for folder in (images, masks):
            if not folder.is_dir():
                raise InputError(folder, "not a folder (expected images/ and masks/<name>/)")
        self.items = [
            (image, mask)
            for image in sorted(images.iterdir())
            if image.suffix.lower() in IMAGE_SUFFIXES
            for mask in sorted((masks / image.stem).glob("*.png"))
            if min_area <= _mask_fraction(mask) <= max_area
        ]
        if not self.items:
            raise InputError(self.root, "no instance masks left after the area filters")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        image_path, mask_path = self.items[k]
        rgb = read_rgb_u8(image_path)
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise InputError(mask_path, "not a readable mask")
        if mask.shape != rgb.shape[:2]:
            raise InputError(mask_path, f"mask size differs from {image_path.name}")
        return rgb, (mask > 127).astype(np.uint8)


# -- the dataset ----------------------------------------------------------------------------


class WeakDataset(Dataset):
    """Random (instance, views) samples; item i depends only on (seed, i)."""

    def __init__(
        self,
        source,
        crop_size: int = 512,
        options: ViewOptions | None = None,
        seed: int = 0,
        length: int = 10_000_000,
    ) -> None:
        self.source, self.crop_size = source, crop_size
        self.options = options or ViewOptions()
        self.seed, self.length = seed, length

    def __len__(self) -> int:
        return self.length

    def sample(self, i: int) -> dict[str, np.ndarray]:
        # A stream of its own: never the same draws as the composited sample of the same index.
        rng = np.random.default_rng([self.seed, i, 2])
        rgb, mask = self.source[int(rng.integers(len(self.source)))]
        image = rgb.astype(np.float32) * np.float32(1 / 255)
        return make_views(image, mask, rng, self.crop_size, self.options)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if not 0 <= i < self.length:
            raise IndexError(i)
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.sample(i).items()}


def open_weak_source(spec: dict):
    """CocoInstances or MaskFolder from a `selftrain.data` config entry."""
    kind = spec.get("type", "coco")
    areas = {k: float(spec[k]) for k in ("min_area", "max_area") if k in spec}
    if kind == "coco":
        for key in ("annotations", "images"):
            if key not in spec:
                raise InputError("selftrain.data", f"type coco needs '{key}'")
        crowd = bool(spec.get("crowd", False))
        return CocoInstances(spec["annotations"], spec["images"], crowd=crowd, **areas)
    if kind == "folder":
        return MaskFolder(spec["root"], **areas)
    raise InputError("selftrain.data", f"unknown type {kind!r}: expected 'coco' or 'folder'")


def build_weak_dataset(st: dict, seed: int = 0) -> WeakDataset:
    """The stage-2 natural-image set described by a config's `selftrain` section."""
    spec = st.get("data") or {}
    return WeakDataset(
        open_weak_source(spec),
        crop_size=int(spec.get("crop_size", 512)),
        options=ViewOptions.from_dict(st.get("views")),
        seed=seed,
        length=int(spec.get("length", 10_000_000)),
    )
