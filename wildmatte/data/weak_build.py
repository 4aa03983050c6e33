"""`wildmatte data build-weak`: a COCO-format weak-supervision set for stage 2.

Stage 2 wants natural images that have instance masks but no alpha (the paper uses COCO
train2017). Where COCO cannot be had, this builds a stand-in: cutouts from a foreground
folder blended into backgrounds by non-linear blends, so that the images carry no usable
alpha (I ≠ αF + (1 − α)B for any alpha we could hand out):
- Poisson cloning, cv2.seamlessClone with NORMAL_CLONE and MIXED_CLONE;
- multi-band blending (a Laplacian pyramid with a binary mask);
- compositing in linear light (sRGB decoded, mixed, re-encoded).
Several objects go into each image, later ones occluding earlier ones; each is annotated with
its visible polygon only (cv2.findContours of the binarised alpha), in a COCO instances JSON.

Only the train split of the foregrounds and backgrounds is used (wildmatte.data.split, same
val_fraction as the training configs), so validation objects never reach stage 2.

Layout written: OUT/images/weak_000000.jpg … and OUT/instances.json. Point a config at it with
    selftrain.data: {type: coco, annotations: OUT/instances.json, images: OUT/images}
and at COCO itself, the same way, with
    selftrain.data: {type: coco, annotations: COCO/annotations/instances_train2017.json,
                     images: COCO/train2017}
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils
from tqdm import tqdm

from wildmatte.data import augment
from wildmatte.data.backgrounds import open_backgrounds
from wildmatte.data.foregrounds import open_foregrounds
from wildmatte.data.paths import expand
from wildmatte.errors import InputError
from wildmatte.files import write_bytes

# Blend and how often it is drawn: mixed cloning lets a textured background show through the
# object, sometimes until it is barely visible, so it is drawn less often.
BLENDS = {"normal-clone": 0.3, "mixed-clone": 0.1, "multiband": 0.3, "linear-light": 0.3}
OBJECT_SCALE = (0.3, 0.7)  # object's long side / canvas short side
MIN_VISIBLE = 0.3  # an object hidden more than this by later ones is not annotated
MIN_PIXELS = 64
GAMMA = 2.2


def _u8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


# -- blends: (canvas, fg, alpha) float32 → canvas --------------------------------------------


def clone(canvas: np.ndarray, fg: np.ndarray, alpha: np.ndarray, flag: int) -> np.ndarray:
    """Poisson cloning of the binarised object into the canvas, in place (same coordinates)."""
    mask = (alpha >= 0.5).astype(np.uint8) * 255
    mask[[0, -1], :] = 0  # the solver needs a border of known pixels
    mask[:, [0, -1]] = 0
    if not mask.any():
        return canvas
    x, y, w, h = cv2.boundingRect(mask)
    # seamlessClone centres the mask's box on this point: x + w // 2 keeps it where it is.
    out = cv2.seamlessClone(_u8(fg), _u8(canvas), mask, (x + w // 2, y + h // 2), flag)
    return out.astype(np.float32) / 255.0


def multiband(canvas: np.ndarray, fg: np.ndarray, alpha: np.ndarray, levels: int = 4) -> np.ndarray:
    """Laplacian-pyramid blending with the binarised alpha: a smooth seam, no linear alpha."""
    weights = [(alpha >= 0.5).astype(np.float32)]
    a, b = [fg], [canvas]
    for _ in range(levels):
        if min(weights[-1].shape) < 8:
            break
        weights.append(cv2.pyrDown(weights[-1]))
        a.append(cv2.pyrDown(a[-1]))
        b.append(cv2.pyrDown(b[-1]))
    out = weights[-1][..., None] * a[-1] + (1 - weights[-1][..., None]) * b[-1]
    for k in range(len(a) - 2, -1, -1):
        size = (a[k].shape[1], a[k].shape[0])
        band_a = a[k] - cv2.pyrUp(a[k + 1], dstsize=size)
        band_b = b[k] - cv2.pyrUp(b[k + 1], dstsize=size)
        w = weights[k][..., None]
        out = cv2.pyrUp(out, dstsize=size) + w * band_a + (1 - w) * band_b
    return np.clip(out, 0.0, 1.0)


def linear_light(canvas: np.ndarray, fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Mixing in linear light, as a camera does: a linear mixture only before gamma encoding."""
    a = alpha[..., None]
    mixed = a * fg**GAMMA + (1 - a) * canvas**GAMMA
    return (mixed ** (1 / GAMMA)).astype(np.float32)


def blend(kind: str, canvas: np.ndarray, fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    if kind == "normal-clone":
        return clone(canvas, fg, alpha, cv2.NORMAL_CLONE)
    if kind == "mixed-clone":
        return clone(canvas, fg, alpha, cv2.MIXED_CLONE)
    if kind == "multiband":
        return multiband(canvas, fg, alpha)
    return linear_light(canvas, fg, alpha)


# -- scene ----------------------------------------------------------------------------------


def background_canvas(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop, short side `size`, aspect 1–4/3 either way, float32 [0, 1]."""
    aspect = rng.uniform(1.0, 4 / 3)
    h, w = (size, round(size * aspect)) if rng.random() < 0.5 else (round(size * aspect), size)
    ih, iw = image.shape[:2]
    fit = min(ih / h, iw / w) * rng.uniform(0.6, 1.0)  # source pixels per canvas pixel
    ch, cw = max(1, round(h * fit)), max(1, round(w * fit))
    y, x = int(rng.integers(0, ih - ch + 1)), int(rng.integers(0, iw - cw + 1))
    patch = cv2.resize(image[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_AREA)
    return patch.astype(np.float32) / 255.0


def place(
    fg: np.ndarray, alpha: np.ndarray, shape: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The cutout warped (random affine, scale) to a random spot of an H×W canvas."""
    points = augment.object_points(alpha)
    centre = points.mean(axis=0)
    extent = float(max((points.max(axis=0) - points.min(axis=0)).max(), 1.0))
    h, w = shape
    scale = min(h, w) * rng.uniform(*OBJECT_SCALE) / extent
    m = augment.scaling(scale) @ augment.random_affine(rng, centre=tuple(centre))
    goal = rng.uniform(0.15, 0.85, 2) * np.array([w, h])
    m = augment.translation(*(goal - augment.apply_point(m, centre))) @ m
    return augment.warp(augment.extend_colours(fg, alpha), alpha, m, (w, h))


def compose(
    canvas: np.ndarray, objects: list, rng: np.random.Generator
) -> tuple[np.ndarray, list[dict]]:
    """Blend (fg, alpha, name) objects in turn; returns the image and the visible instances."""
    placed: list[dict] = []
    for fg, alpha, name in objects:
        fg_c, alpha_c = place(fg, alpha, canvas.shape[:2], rng)
        binary = alpha_c >= 0.5
        if binary.sum() < MIN_PIXELS:
            continue
        kind = str(rng.choice(list(BLENDS), p=list(BLENDS.values())))
        canvas = blend(kind, canvas, fg_c, alpha_c)
        for other in placed:  # the new object hides what lies under it
            other["mask"] &= ~binary
        placed.append({"mask": binary, "area": int(binary.sum()), "source": name, "blend": kind})
    visible = [p for p in placed if p["mask"].sum() >= max(MIN_PIXELS, MIN_VISIBLE * p["area"])]
    return canvas, visible


# -- COCO annotations -----------------------------------------------------------------------


def polygons(mask: np.ndarray) -> list[list[float]]:
    """Outer contours of a binary mask as COCO polygons [x0, y0, x1, y1, …]."""
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    return [
        c.reshape(-1).astype(float).tolist()
        for c in contours
        if len(c) >= 3 and cv2.contourArea(c) >= 4
    ]


def annotation(instance: dict, ann_id: int, image_id: int) -> dict | None:
    """A COCO annotation with the polygon only (area and box from that polygon)."""
    polys = polygons(instance["mask"])
    if not polys:
        return None
    h, w = instance["mask"].shape
    rle = mask_utils.merge(mask_utils.frPyObjects(polys, h, w))
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "segmentation": polys,
        "area": float(mask_utils.area(rle)),
        "bbox": [float(v) for v in mask_utils.toBbox(rle)],
        "iscrowd": 0,
        "source": instance["source"],
        "blend": instance["blend"],
    }


# -- files ----------------------------------------------------------------------------------


def _write_jpeg(path: Path, image: np.ndarray, quality: int = 92) -> None:
    bgr = cv2.cvtColor(_u8(image), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    write_bytes(path, data.tobytes())


def build_weak_set(
    fg: str | Path,
    bg: str | Path,
    out: str | Path,
    n: int = 500,
    seed: int = 0,
    split: str = "train",
    size: int = 320,
    objects: tuple[int, int] = (2, 4),
    val_fraction: float = 0.12,
    progress: bool = True,
) -> Path:
    """Write n blended images and their COCO instances JSON under out; returns the JSON path."""
    if split == "val":
        raise InputError(fg, "the validation split must never be used for training data")
    fgs = open_foregrounds({"type": "rgba", "root": str(fg), "val_fraction": val_fraction}, split)
    bgs = open_backgrounds({"root": str(bg), "val_fraction": val_fraction}, split)
    if not len(fgs) or not len(bgs):
        raise InputError(fg if not len(fgs) else bg, f"no images in the {split} split")
    out = expand(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in tqdm(range(n), disable=not progress, desc="build-weak", dynamic_ncols=True):
        rng = np.random.default_rng([seed, i])
        canvas = background_canvas(bgs.read_u8(int(rng.integers(len(bgs))), size), size, rng)
        picks = rng.integers(len(fgs), size=int(rng.integers(objects[0], objects[1] + 1)))
        chosen = [(*fgs[int(k)], fgs.names[int(k)]) for k in picks]
        image, visible = compose(canvas, chosen, rng)
        name = f"weak_{i:06d}.jpg"
        _write_jpeg(out / "images" / name, image)
        h, w = image.shape[:2]
        images.append({"id": i + 1, "file_name": name, "height": h, "width": w})
        for instance in visible:
            ann = annotation(instance, len(annotations) + 1, i + 1)
            if ann is not None:
                annotations.append(ann)
    doc = {
        "info": {"description": "wildmatte build-weak: blended cutouts, polygons only"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "object"}],
    }
    json_path = out / "instances.json"
    write_bytes(json_path, json.dumps(doc).encode())
    return json_path
