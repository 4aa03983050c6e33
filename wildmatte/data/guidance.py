"""Coarse guidance masks made from a ground-truth alpha, for training and validation.

All functions take a float32 H×W alpha in [0, 1] and return a float32 H×W mask in {0, 1}.
Randomness always comes from an explicit np.random.Generator.
"""

import cv2
import numpy as np

# Training kernels span 1..29 px at 512² crops (MGMatting's setting), scaled with the crop.
_KERNEL_MIN, _KERNEL_MAX, _KERNEL_REF = 1, 29, 512


def _ellipse(size: int) -> np.ndarray:
    size = max(int(size), 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _as_mask(binary: np.ndarray) -> np.ndarray:
    return (binary > 0).astype(np.float32)


# Morphology and warps below work on the object's bounding box, padded by how far they can
# reach, not the whole crop: the same result, several times faster on a small object.
def _box(mask: np.ndarray, pad: int = 0) -> tuple[slice, slice]:
    """Row and column slices of the non-zero pixels' bounding box, padded, inside the image."""
    x, y, w, h = cv2.boundingRect(mask)
    rows, cols = mask.shape
    return (
        slice(max(0, y - pad), min(rows, y + h + pad)),
        slice(max(0, x - pad), min(cols, x + w + pad)),
    )


def paper_guidance(alpha: np.ndarray, kernel: int = 25) -> np.ndarray:
    """The paper's benchmark guidance: alpha ≥ 0.5, dilated with a kernel×kernel square."""
    binary = (alpha >= 0.5).astype(np.uint8)
    return _as_mask(cv2.dilate(binary, np.ones((kernel, kernel), np.uint8)))


def kernel_range(crop_size: int) -> tuple[int, int]:
    """Smallest and largest training kernel (px) for a crop of crop_size²."""
    hi = max(_KERNEL_MIN, round(_KERNEL_MAX * crop_size / _KERNEL_REF))
    return _KERNEL_MIN, hi


def simulate_guidance(
    alpha: np.ndarray,
    rng: np.random.Generator,
    crop_size: int = 512,
    kernel: tuple[int, int] | None = None,
) -> np.ndarray:
    """Training guidance (MGMatting): a random threshold, then random erosion and/or dilation.

    The threshold is drawn from [0.01, 1); then one of erode, dilate, erode→dilate or
    dilate→erode is applied with elliptical kernels of random size from kernel_range(crop_size),
    or from `kernel` = (smallest, largest) in px when given.
    """
    threshold = rng.uniform(0.01, 1.0)
    binary = (alpha >= threshold).astype(np.uint8)
    lo, hi = kernel if kernel is not None else kernel_range(crop_size)
    ops = [[cv2.erode], [cv2.dilate], [cv2.erode, cv2.dilate], [cv2.dilate, cv2.erode]]
    chosen = ops[rng.integers(len(ops))]
    sizes = [int(rng.integers(lo, hi + 1)) for _ in chosen]
    mask = binary
    if binary.any():
        rows, cols = _box(binary, sum(sizes))
        near = binary[rows, cols]
        for op, size in zip(chosen, sizes):
            near = op(near, _ellipse(size))
        mask = np.zeros_like(binary)
        mask[rows, cols] = near
    if not mask.any():  # eroded away: an empty guidance would teach nothing
        mask = binary if binary.any() else (alpha > 0).astype(np.uint8)
    return _as_mask(mask)


def _rescale_about_centre(mask: np.ndarray, factor: float) -> np.ndarray:
    m = cv2.moments(mask, binaryImage=True)
    cy, cx = m["m01"] / m["m00"], m["m10"] / m["m00"]
    m = np.float32([[factor, 0, cx * (1 - factor)], [0, factor, cy * (1 - factor)]])
    h, w = mask.shape
    return cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST)


def _wobble(mask: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    h, w = mask.shape
    grid = rng.normal(0.0, amplitude, size=(2, 6, 6)).astype(np.float32)
    # Both fields in one two-channel resize: OpenCV's vectorised path, 10× faster than two.
    field = cv2.resize(np.dstack(grid), (w, h), interpolation=cv2.INTER_CUBIC)
    dx, dy = field[..., 0], field[..., 1]
    out = np.zeros_like(mask)
    if not mask.any():
        return out
    # A pixel further from the object than the largest displacement samples background.
    reach = int(np.ceil(max(np.abs(dx).max(), np.abs(dy).max()))) + 2
    rows, cols = _box(mask, reach)
    ys, xs = np.mgrid[rows, cols].astype(np.float32)
    out[rows, cols] = cv2.remap(
        mask, xs + dx[rows, cols], ys + dy[rows, cols], cv2.INTER_NEAREST, borderValue=0
    )
    return out


def _blob(shape: tuple, centre: tuple, radius: float, rng: np.random.Generator) -> np.ndarray:
    blob = np.zeros(shape, np.uint8)
    axes = (
        max(1, int(radius * rng.uniform(0.5, 1.0))),
        max(1, int(radius * rng.uniform(0.5, 1.0))),
    )
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(blob, (int(centre[1]), int(centre[0])), axes, angle, 0, 360, 1, -1)
    return blob


def _random_pixel(binary: np.ndarray, rng: np.random.Generator) -> tuple:
    """A non-zero pixel drawn uniformly (the k-th in row-major order, as np.nonzero lists them)."""
    rows, cols = _box(binary)
    flat = np.flatnonzero(binary[rows, cols])
    y, x = divmod(int(flat[rng.integers(len(flat))]), cols.stop - cols.start)
    return rows.start + y, cols.start + x


def noisy_guidance(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mask with the errors of a segmentation model's output.

    Perturbations, in order:
    - off threshold: binarise at a threshold drawn from [0.2, 0.8] instead of 0.5;
    - wrong scale: resize the mask about its centroid by a factor 1 ± [5%, 15%];
    - wobbly edge: warp it by a smooth random displacement field (a 6×6 grid of normal offsets
      with σ = 1.5% of the object size, upsampled bicubically);
    - missing piece: remove an elliptical blob (radius 5–15% of the object size) centred on an
      object pixel;
    - stray blob: add an elliptical blob (radius 3–10% of the object size) centred on a pixel of a
      ring just outside the object.
    Never returns an all-zero mask when alpha has any non-zero pixel.
    """
    binary = (alpha >= rng.uniform(0.2, 0.8)).astype(np.uint8)
    if not binary.any():
        binary = (alpha > 0).astype(np.uint8)
    if not binary.any():
        return np.zeros_like(alpha, dtype=np.float32)
    fallback = binary

    rows, cols = _box(binary)
    size = float(max(rows.stop - rows.start, cols.stop - cols.start))

    factor = 1.0 + rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.15)
    mask = _rescale_about_centre(binary, factor)
    mask = _wobble(mask, rng, amplitude=0.015 * size)

    if mask.any():
        hole = _blob(mask.shape, _random_pixel(mask, rng), rng.uniform(0.05, 0.15) * size, rng)
        mask = mask * (1 - hole)

    ring_width = max(3, int(0.1 * size)) | 1
    rows, cols = _box(binary, ring_width)
    ring = np.zeros_like(binary)
    near = binary[rows, cols]
    ring[rows, cols] = cv2.dilate(near, _ellipse(ring_width)) * (1 - near)
    if ring.any():
        stray = _blob(mask.shape, _random_pixel(ring, rng), rng.uniform(0.03, 0.10) * size, rng)
        mask = np.maximum(mask, stray)

    if not mask.any():
        mask = fallback
    return _as_mask(mask)


def cutmask(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MGMatting CutMask: copy a random patch (¼–½ of each side) of the mask to another place."""
    h, w = mask.shape
    ph, pw = (
        rng.integers(max(1, h // 4), max(2, h // 2 + 1)),
        rng.integers(max(1, w // 4), max(2, w // 2 + 1)),
    )
    y0, x0 = rng.integers(0, h - ph + 1), rng.integers(0, w - pw + 1)
    y1, x1 = rng.integers(0, h - ph + 1), rng.integers(0, w - pw + 1)
    out = mask.copy()
    out[y1 : y1 + ph, x1 : x1 + pw] = mask[y0 : y0 + ph, x0 : x0 + pw]
    return out
