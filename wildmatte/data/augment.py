"""Geometric and colour augmentation of a foreground layer (fg H×W×3, alpha H×W, float32).

Geometry is expressed as 3×3 matrices so that affine, flip, resize and crop compose into a
single warp: every layer is resampled once, straight into the crop.
"""

import cv2
import numpy as np

# Interpolation leaves values a hair off 0 and 1; snapping them keeps "opaque" exactly 1.
_SNAP = 1e-3
_MAX_POINTS = 4096


def snap_alpha(alpha: np.ndarray, eps: float = _SNAP) -> np.ndarray:
    """Alpha with values within eps of 0 or 1 set to exactly 0 or 1 (in place)."""
    alpha[alpha < eps] = 0.0
    alpha[alpha > 1.0 - eps] = 1.0
    return alpha


def translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def scaling(s: float) -> np.ndarray:
    return np.diag([s, s, 1.0])


def random_affine(
    rng: np.random.Generator,
    centre: tuple[float, float] = (0.0, 0.0),
    max_rotation: float = 30.0,
    scale_range: tuple[float, float] = (0.8, 1.25),
    max_shear: float = 10.0,
    flip_prob: float = 0.5,
) -> np.ndarray:
    """A 3×3 random rotation, scale, shear and horizontal flip about centre (x, y)."""
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation))
    scale = np.exp(rng.uniform(*np.log(scale_range)))
    shear = np.tan(np.deg2rad(rng.uniform(-max_shear, max_shear)))
    flip = -1.0 if rng.random() < flip_prob else 1.0
    c, s = np.cos(angle), np.sin(angle)
    linear = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]]) @ np.diag([flip, 1])
    m = np.eye(3)
    m[:2, :2] = scale * linear
    return translation(*centre) @ m @ translation(-centre[0], -centre[1])


def warp(
    fg: np.ndarray, alpha: np.ndarray, matrix: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Resample fg and alpha by a 3×3 matrix into a (width, height) canvas.

    Outside the source, alpha is 0 and fg repeats its border (its colour there has no weight).
    """
    return warp_rgba(pack_rgba(fg, alpha), matrix, size)


def _points(region: np.ndarray, max_points: int) -> np.ndarray | None:
    """Every k-th (x, y) pixel of a boolean region in row-major order, up to max_points; None
    if empty. Searched within the region's bounding box: the same points, fewer pixels."""
    x, y, w, h = cv2.boundingRect(region.view(np.uint8))
    ys, xs = np.nonzero(region[y : y + h, x : x + w])
    if not len(xs):
        return None
    step = max(1, len(xs) // max_points)
    return np.stack([xs[::step] + x, ys[::step] + y], axis=1).astype(np.float64)


def transition_points(alpha: np.ndarray, max_points: int = _MAX_POINTS) -> np.ndarray:
    """Up to max_points (x, y) pixels with 0 < α < 1; the object (α > 0) if none; else the centre."""
    for region in ((alpha > 0) & (alpha < 1), alpha > 0):
        points = _points(region, max_points)
        if points is not None:
            return points
    h, w = alpha.shape
    return np.array([[w / 2, h / 2]])


def object_points(alpha: np.ndarray, max_points: int = _MAX_POINTS) -> np.ndarray:
    """Up to max_points (x, y) pixels with α > 0, or the centre for an empty alpha."""
    points = _points(alpha > 0, max_points)
    if points is None:
        h, w = alpha.shape
        return np.array([[w / 2, h / 2]])
    return points


def apply_point(matrix: np.ndarray, point: np.ndarray) -> np.ndarray:
    return matrix[:2, :2] @ point + matrix[:2, 2]


def random_affine_flip(
    fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random rotation, scale, shear and flip about the image centre, on a canvas of the same size."""
    h, w = alpha.shape
    return warp(fg, alpha, random_affine(rng, centre=(w / 2, h / 2)), (w, h))


def random_resize(
    fg: np.ndarray,
    alpha: np.ndarray,
    rng: np.random.Generator,
    scale_range: tuple[float, float] = (0.5, 1.5),
) -> tuple[np.ndarray, np.ndarray]:
    """Resize by a log-uniform factor from scale_range."""
    s = np.exp(rng.uniform(*np.log(scale_range)))
    h, w = alpha.shape
    size = (max(1, round(w * s)), max(1, round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.resize(fg, size, interpolation=interp), snap_alpha(
        cv2.resize(alpha, size, interpolation=interp)
    )


def crop_matrix(centre: np.ndarray, size: int) -> np.ndarray:
    """Translation putting point centre (x, y) at the middle of a size×size crop."""
    return translation(size / 2 - centre[0], size / 2 - centre[1])


def crop_at_transition(
    fg: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """A size×size crop centred on a random transition pixel (padded where it leaves the image)."""
    points = transition_points(alpha)
    centre = points[rng.integers(len(points))]
    return warp(fg, alpha, crop_matrix(centre, size), (size, size))


def color_matrix(hue: float, saturation: float, brightness: float) -> np.ndarray:
    """3×3 RGB matrix: rotate hue by `hue` turns, scale chroma and brightness.

    Hue rotation is a rotation about the grey axis, so the whole jitter is one linear map.
    """
    grey = np.full((3, 3), 1 / 3)
    theta = 2 * np.pi * hue
    axis = np.ones(3) / np.sqrt(3)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.cos(theta) * np.eye(3) + np.sin(theta) * cross + (1 - np.cos(theta)) * grey
    chroma = grey + saturation * (np.eye(3) - grey)
    return brightness * chroma @ rotation


def random_color_matrix(
    rng: np.random.Generator, hue: float = 0.05, saturation: float = 0.3, brightness: float = 0.25
) -> np.ndarray:
    """color_matrix with a random hue shift (± turns) and saturation, brightness gains (1 ± x)."""
    return color_matrix(
        rng.uniform(-hue, hue),
        rng.uniform(1 - saturation, 1 + saturation),
        rng.uniform(1 - brightness, 1 + brightness),
    )


def color_jitter(fg: np.ndarray, rng: np.random.Generator, **amounts: float) -> np.ndarray:
    """fg with random hue, saturation and brightness (amounts as in random_color_matrix)."""
    out = cv2.transform(fg, random_color_matrix(rng, **amounts).astype(np.float32))
    return np.clip(out, 0.0, 1.0, out=out)


def pack_rgba(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """fg and alpha as one H×W×4 array with a 1 px border (fg repeated, alpha 0).

    Warping 4 channels at once is about twice as fast as 3 + 1, and the border makes the area
    outside the source transparent while keeping its colour. Coordinates shift by one pixel.
    """
    h, w = alpha.shape
    rgba = np.empty((h + 2, w + 2, 4), np.result_type(fg, alpha))  # cv2.merge is slower
    rgba[1:-1, 1:-1, :3] = fg
    rgba[1:-1, 1:-1, 3] = alpha
    rgba[0, 1:-1, :3], rgba[-1, 1:-1, :3] = fg[0], fg[-1]
    rgba[:, 0, :3], rgba[:, -1, :3] = rgba[:, 1, :3], rgba[:, -2, :3]
    rgba[0, :, 3] = rgba[-1, :, 3] = rgba[:, 0, 3] = rgba[:, -1, 3] = 0.0
    return rgba


def _resample(rgba: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """warpAffine of a pack_rgba array; matrix maps the unpadded source to the output."""
    m = matrix @ translation(-1, -1)
    h, w = rgba.shape[:2]
    shrink = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    if shrink < 0.5:  # bilinear warping aliases fine hair: area-average most of the way first
        small = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        rgba = cv2.resize(rgba, small, interpolation=cv2.INTER_AREA)
        m = m @ np.diag([w / small[0], h / small[1], 1.0])
    return cv2.warpAffine(rgba, m[:2].astype(np.float32), size, borderMode=cv2.BORDER_REPLICATE)


def warp_planes(
    rgba: np.ndarray, matrix: np.ndarray, size: tuple[int, int], colour: np.ndarray | None = None
) -> np.ndarray:
    """Warp a pack_rgba array into a (width, height) canvas, channels first (4×H×W).

    colour: an optional 3×3 RGB matrix applied to the warped colours (clipped to [0, 1]); done
    with cv2.transform, much faster than a BLAS product on 3×N and single-threaded.
    """
    out = _resample(rgba, matrix, size)
    if colour is not None:
        full = np.eye(4, dtype=np.float32)  # alpha passes through unchanged
        full[:3, :3] = colour
        out = cv2.transform(out, full)
    planes = np.ascontiguousarray(out.transpose(2, 0, 1))
    if colour is not None:
        np.clip(planes[:3], 0.0, 1.0, out=planes[:3])
    snap_alpha(planes[3])
    return planes


def warp_rgba(
    rgba: np.ndarray, matrix: np.ndarray, size: tuple[int, int], colour: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a pack_rgba array (optionally recoloured by a 3×3 matrix) into a (width, height) crop.

    matrix maps the unpadded source to the crop. Returns (fg H×W×3, alpha H×W).
    """
    out = _resample(rgba, matrix, size)
    fg = cv2.cvtColor(out, cv2.COLOR_RGBA2RGB)
    if colour is not None:
        fg = cv2.transform(fg, colour.astype(np.float32))
        np.clip(fg, 0.0, 1.0, out=fg)
    return fg, snap_alpha(out[..., 3].copy())


def extend_colours(fg: np.ndarray, alpha: np.ndarray, levels: int = 6) -> np.ndarray:
    """fg with the colour of transparent pixels filled in from nearby visible ones.

    Cutouts often store junk (black, white) where α = 0; interpolation near the edge would blend
    it in. Fill by a pull-push pyramid of alpha-weighted colour.
    """
    weight = (alpha > 0).astype(np.float32)
    if weight.all() or not weight.any():
        return fg
    nums, dens = [fg * weight[..., None]], [weight]
    for _ in range(levels):
        if min(dens[-1].shape) < 4:
            break
        nums.append(cv2.pyrDown(nums[-1]))
        dens.append(cv2.pyrDown(dens[-1]))
    filled = nums[-1] / np.maximum(dens[-1], 1e-6)[..., None]
    for num, den in zip(reversed(nums[:-1]), reversed(dens[:-1]), strict=True):
        up = cv2.resize(filled, (den.shape[1], den.shape[0]), interpolation=cv2.INTER_LINEAR)
        d = den[..., None]
        filled = np.where(d > 1e-3, num / np.maximum(d, 1e-6), up)
    return np.where(weight[..., None] > 0, fg, filled).astype(np.float32)


def sharpen(planes: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """C×H×W planes in [0, 1] with an unsharp mask: the detail of a photo at its own resolution."""
    hwc = np.ascontiguousarray(planes.transpose(1, 2, 0))
    blurred = cv2.GaussianBlur(hwc, (0, 0), sigma).reshape(hwc.shape)
    out = np.clip(hwc + amount * (hwc - blurred), 0.0, 1.0)
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def match_sharpness(
    fgs: list[np.ndarray], bg: np.ndarray, rng: np.random.Generator, p: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """With probability p, the same photo-like detail on every layer: one unsharp mask and one
    grain level for the foregrounds and the background alike. Cutouts are mostly upscaled
    (smooth), and fine texture is otherwise mostly the see-through procedural strands; in a
    photo an opaque object has its texture and grain. Treating the layers alike keeps sharpness
    from telling object from background (softening only the background taught the reverse,
    experiments/results/effl0_sharp_tune.md)."""
    if rng.random() >= p:
        return fgs, bg
    amount, sigma, grain = rng.uniform(0.5, 1.5), rng.uniform(0.8, 1.5), rng.uniform(0, 0.03)

    def texture(planes: np.ndarray) -> np.ndarray:
        noisy = sharpen(planes, amount, sigma) + rng.normal(0, grain, planes.shape)
        return np.clip(noisy, 0, 1).astype(np.float32)

    return [texture(fg) for fg in fgs], texture(bg)
