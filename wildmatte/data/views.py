"""The two views of one weakly labelled sample (stage 2, self-training).

- weak view (for the teacher): geometry only (affine, flip, crop); guidance = the instance mask.
- strong view (for the student): the SAME warped pixels, then
  - pixel-level linear perturbations (additive Gaussian noise, linear contrast), which keep
    every pixel a linear mixture of the same foreground and background colours, so the
    teacher's alpha on the weak view stays the right answer;
  - guidance perturbation: dilate and/or erode the mask with an elliptical kernel of
    β × the short side of the instance's bounding box;
  - region-level perturbations (Gaussian blur, JPEG) only when switched on (an ablation: they
    mix neighbouring pixels, so the weak view's alpha is no longer exact for them).

Arrays are float32: images H×W×3 in [0, 1] in, channels-first (3×S×S, 1×S×S) out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import cv2
import numpy as np

from wildmatte.data import augment
from wildmatte.errors import InputError


@dataclass(frozen=True)
class ViewOptions:
    """Switches and ranges of the strong view; ranges are (low, high) drawn uniformly."""

    pixel: bool = True  # noise + contrast
    region: bool = False  # blur / JPEG (ablation only)
    guidance: bool = True  # dilate/erode the mask
    beta: float = 0.2  # kernel = beta × short side of the instance's box
    noise: tuple[float, float] = (0.0, 0.04)  # Gaussian noise σ
    contrast: tuple[float, float] = (0.7, 1.3)  # gain about the image mean
    blur: tuple[float, float] = (0.5, 2.0)  # Gaussian blur σ (px)
    jpeg: tuple[int, int] = (30, 80)  # JPEG quality
    object_scale: tuple[float, float] = (0.4, 1.0)  # instance's long side / crop side
    max_upscale: float = 2.0  # upscaling small instances further only blurs them

    @classmethod
    def from_dict(cls, data: dict | None) -> ViewOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data or {}) - known)
        if unknown:
            raise InputError("selftrain.views", f"unknown option(s) {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in (data or {}).items()}
        return cls(**values)


# -- geometry -------------------------------------------------------------------------------


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), exclusive ends, of the non-zero pixels; None for an empty mask."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def random_geometry(
    mask: np.ndarray, size: int, rng: np.random.Generator, opts: ViewOptions
) -> np.ndarray:
    """A 3×3 matrix: random affine + flip about the instance, scaled and moved into the crop."""
    box = bounding_box(mask) or (0, 0, mask.shape[1], mask.shape[0])
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    extent = max(box[2] - box[0], box[3] - box[1], 1)
    target = size * np.exp(rng.uniform(*np.log(opts.object_scale)))
    m = augment.scaling(min(target / extent, opts.max_upscale)) @ augment.random_affine(
        rng, centre=tuple(centre)
    )
    goal = np.full(2, size / 2) + rng.uniform(-0.15, 0.15, 2) * size
    return augment.translation(*(goal - augment.apply_point(m, centre))) @ m


def warp_pair(
    image: np.ndarray, mask: np.ndarray, matrix: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Image and binary mask resampled together by one warp (so they can never disagree)."""
    fg, soft = augment.warp(image, mask.astype(np.float32), matrix, (size, size))
    return fg, (soft >= 0.5).astype(np.float32)


# -- strong-view perturbations --------------------------------------------------------------


def linear_perturb(image: np.ndarray, rng: np.random.Generator, opts: ViewOptions) -> np.ndarray:
    """Linear contrast about the mean grey, then additive Gaussian noise (per pixel, linear)."""
    mean = float(image.mean())
    out = (image - mean) * rng.uniform(*opts.contrast) + mean
    out = out + rng.normal(0.0, rng.uniform(*opts.noise), image.shape)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def region_perturb(image: np.ndarray, rng: np.random.Generator, opts: ViewOptions) -> np.ndarray:
    """Gaussian blur or JPEG compression: both mix neighbouring pixels."""
    if rng.random() < 0.5:
        return cv2.GaussianBlur(image, (0, 0), rng.uniform(*opts.blur))
    u8 = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    quality = int(rng.integers(opts.jpeg[0], opts.jpeg[1] + 1))
    _, data = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0


def guidance_kernel(mask: np.ndarray, beta: float) -> int:
    """Kernel side in px: beta × the short side of the mask's bounding box (at least 1)."""
    box = bounding_box(mask)
    if box is None:
        return 1
    return max(1, round(beta * min(box[2] - box[0], box[3] - box[1])))


def perturb_guidance(mask: np.ndarray, rng: np.random.Generator, beta: float) -> np.ndarray:
    """Dilate, erode, or both in either order, with the box-scaled elliptical kernel."""
    size = guidance_kernel(mask, beta)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    ops = [[cv2.dilate], [cv2.erode], [cv2.erode, cv2.dilate], [cv2.dilate, cv2.erode]]
    out = mask.astype(np.uint8)
    for op in ops[rng.integers(len(ops))]:
        out = op(out, kernel)
    # An instance eroded away would give the student no guidance at all.
    return out.astype(np.float32) if out.any() else mask.astype(np.float32)


# -- both views -----------------------------------------------------------------------------


def make_views(
    image: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    size: int,
    opts: ViewOptions = ViewOptions(),
) -> dict[str, np.ndarray]:
    """image_weak/strong (3×S×S), guidance_weak/strong and mask (1×S×S) of one instance."""
    weak, crop_mask = warp_pair(image, mask, random_geometry(mask, size, rng, opts), size)
    strong = weak
    if opts.pixel:
        strong = linear_perturb(strong, rng, opts)
    if opts.region:
        strong = region_perturb(strong, rng, opts)
    guide = perturb_guidance(crop_mask, rng, opts.beta) if opts.guidance else crop_mask
    return {
        "image_weak": weak.transpose(2, 0, 1),
        "image_strong": strong.transpose(2, 0, 1),
        "guidance_weak": crop_mask[None],
        "guidance_strong": guide[None],
        "mask": crop_mask[None],
    }
