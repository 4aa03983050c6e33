"""Procedural foregrounds with the fine and soft structure that hand-cut cutouts lack.

Hair and fur, wires and nets, glass and smoke, motion blur, objects with holes. Colours are
always textures cropped from real images (any image set passed as color_source), and alphas are
anti-aliased (OpenCV's LINE_AA with sub-pixel coordinates, or Gaussian smoothing).
Each generator is a function (rng, size, texture) -> (fg H×W×3, alpha H×W), float32 in [0, 1].
"""

from collections.abc import Callable

import cv2
import numpy as np

_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT

Texture = Callable[[], np.ndarray]


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * _ONE).astype(np.int32)


def smooth_noise(rng: np.random.Generator, size: int, cells: int, octaves: int = 3) -> np.ndarray:
    """Fractal value noise in [0, 1]: random grids upsampled bicubically and summed.

    Built at ≥ 4 px per finest cell and upsampled once: the result is smooth anyway.
    """
    work = min(size, 4 * cells * 2 ** (octaves - 1))
    total = np.zeros((work, work), np.float32)
    for octave in range(octaves):
        n = cells * 2**octave
        grid = rng.random((n, n), dtype=np.float32)
        total += cv2.resize(grid, (work, work), interpolation=cv2.INTER_CUBIC) / 2**octave
    lo, hi = total.min(), total.max()
    total = (total - lo) / max(hi - lo, 1e-6)
    if work != size:
        total = cv2.resize(total, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(total, 0, 1, out=total)


def blob_outline(
    rng: np.random.Generator, centre: np.ndarray, radius: float, n: int = 64, wobble: float = 0.25
) -> np.ndarray:
    """Closed outline (n×2 points) of a star-shaped blob: a circle with random low harmonics."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 6):
        r += wobble / k * rng.normal() * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = radius * np.clip(r, 0.3, None)
    aspect = rng.uniform(0.6, 1.0)
    return centre + np.stack([r * np.cos(theta), aspect * r * np.sin(theta)], axis=1)


def fill(size: int, outlines: list[np.ndarray], value: int = 255) -> np.ndarray:
    """Anti-aliased filled polygons as float32 alpha."""
    canvas = np.zeros((size, size), np.uint8)
    cv2.fillPoly(canvas, [_fixed(o) for o in outlines], value, cv2.LINE_AA, _SHIFT)
    return canvas.astype(np.float32) / 255


def _random_blob(rng: np.random.Generator, size: int, scale=(0.2, 0.35)) -> np.ndarray:
    centre = size / 2 + rng.uniform(-0.1, 0.1, 2) * size
    return blob_outline(rng, centre, rng.uniform(*scale) * size)


def hair(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """A body with many thin curved strands growing out of its edge (hair, fur, feathers)."""
    outline = _random_blob(rng, size, (0.15, 0.3))
    body = fill(size, [outline])
    count = int(rng.integers(300, 1200))
    start = outline[rng.integers(len(outline), size=count)] + rng.normal(0, 2, (count, 2))
    centre = outline.mean(axis=0)
    direction = np.arctan2(*(start - centre)[:, ::-1].T)
    direction += rng.normal(0, 0.35, count)
    length = rng.uniform(0.04, 0.22) * size * rng.uniform(0.4, 1.0, count)
    strands = _strands(rng, start, direction, length)
    canvas = np.zeros((size, size), np.uint8)
    shade = int(rng.integers(140, 256))
    cv2.polylines(canvas, strands, False, shade, 1, cv2.LINE_AA, _SHIFT)
    alpha = np.maximum(body, canvas.astype(np.float32) / 255)
    return texture(), alpha


def _strands(
    rng: np.random.Generator, start: np.ndarray, direction: np.ndarray, length: np.ndarray
) -> list[np.ndarray]:
    """Thin curved strands (fixed-point polylines) from start points, each curling its own way."""
    count, steps = len(start), 8
    curl = rng.normal(0, rng.uniform(0.02, 0.15), count)
    strands = np.empty((count, steps + 1, 2))
    strands[:, 0] = start
    for k in range(1, steps + 1):
        direction = direction + curl
        step = np.stack([np.cos(direction), np.sin(direction)], axis=1) * (length / steps)[:, None]
        strands[:, k] = strands[:, k - 1] + step
    return list(_fixed(strands))


def wires(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """A few long thin wires: smooth random curves crossing the image, 1–3 px wide."""
    canvas = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(2, 8))):
        t = np.linspace(0, 1, 48)[:, None]
        ends = rng.uniform(0, size, (2, 2))
        bend = rng.normal(0, 0.15 * size, (1, 2)) * np.sin(np.pi * t)
        wiggle = rng.normal(0, 0.01 * size, (1, 2)) * np.sin(rng.uniform(4, 20) * t)
        curve = ends[0] + t * (ends[1] - ends[0]) + bend + wiggle
        cv2.polylines(
            canvas, [_fixed(curve)], False, 255, int(rng.integers(1, 4)), cv2.LINE_AA, _SHIFT
        )
    return texture(), canvas.astype(np.float32) / 255


def net(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """A mesh (fence, net, lace): a rotated, gently warped grid of thin lines inside a blob."""
    pitch = rng.uniform(0.03, 0.1) * size
    angle = rng.uniform(0, np.pi)
    thickness = int(rng.integers(1, 3))
    span = np.arange(-size, size, pitch)
    t = np.linspace(-size, size, 64)
    lines = [np.stack([t, np.full_like(t, v)], 1) for v in span]
    lines += [np.stack([np.full_like(t, v), t], 1) for v in span]
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    amp, freq = rng.uniform(0, 0.02) * size, rng.uniform(1, 4) * 2 * np.pi / size
    warped = [p @ rot.T + size / 2 + amp * np.sin(freq * p[:, ::-1]) for p in lines]
    canvas = np.zeros((size, size), np.uint8)
    cv2.polylines(canvas, [_fixed(p) for p in warped], False, 255, thickness, cv2.LINE_AA, _SHIFT)
    region = fill(size, [_random_blob(rng, size, (0.3, 0.45))])
    return texture(), canvas.astype(np.float32) / 255 * region


def glass(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """A semi-transparent object: faint inside, denser towards the rim, with soft highlights."""
    body = fill(size, [_random_blob(rng, size)])
    inside = (body > 0.5).astype(np.uint8)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    rim_width = rng.uniform(0.02, 0.08) * size
    rim = np.exp(-distance / rim_width)
    base = rng.uniform(0.05, 0.4)
    highlights = smooth_noise(rng, size, 4, octaves=2) ** 4
    alpha = body * np.clip(base + (1 - base) * 0.7 * rim + 0.5 * highlights, 0, 1)
    return texture(), alpha.astype(np.float32)


def smoke(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """Smoke, veil or cloud: smooth fractal noise alpha fading out at the borders."""
    noise = smooth_noise(rng, size, int(rng.integers(3, 8)), octaves=3)
    threshold, softness = rng.uniform(0.3, 0.6), rng.uniform(0.1, 0.3)
    density = np.clip((noise - threshold) / softness, 0, 1) * rng.uniform(0.4, 1.0)
    small = size // 4  # the window is very smooth: blur it at quarter resolution
    window = fill(small, [_random_blob(rng, small, (0.3, 0.45))])
    window = cv2.resize(cv2.GaussianBlur(window, (0, 0), small / 16), (size, size))
    return texture(), (density * window).astype(np.float32)


def motion_blur(
    fg: np.ndarray, alpha: np.ndarray, angle: float, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Box blur along a direction, on premultiplied colour, by rotating to the x axis and back."""
    size = alpha.shape[0]
    rot = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
    back = cv2.invertAffineTransform(rot)
    layers = np.dstack([fg * alpha[..., None], alpha])
    layers = cv2.warpAffine(layers, rot, (size, size), flags=cv2.INTER_LINEAR)
    layers = cv2.blur(layers, (length, 1))
    layers = cv2.warpAffine(layers, back, (size, size), flags=cv2.INTER_LINEAR)
    blurred = np.clip(layers[..., 3], 0, 1)
    colour = layers[..., :3] / np.maximum(blurred, 1e-6)[..., None]
    colour = np.where(blurred[..., None] > 1e-3, colour, fg)
    return np.clip(colour, 0, 1).astype(np.float32), blurred.astype(np.float32)


def motion(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """A solid object moving fast: alpha and colour blurred along a random direction."""
    alpha = fill(size, [_random_blob(rng, size, (0.15, 0.3))])
    length = int(rng.uniform(0.02, 0.12) * size) | 1
    return motion_blur(texture(), alpha, rng.uniform(0, 180), max(length, 3))


def holes(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """A solid object pierced by holes (a slotted spoon, a ring, a perforated sheet)."""
    outline = _random_blob(rng, size, (0.25, 0.4))
    centre = outline.mean(axis=0)
    count = int(rng.integers(1, 20))
    radius = rng.uniform(0.02, 0.12) * size / np.sqrt(count)
    cut = [
        blob_outline(rng, centre + rng.uniform(-0.5, 0.5, 2) * 0.4 * size, radius, n=32, wobble=0.1)
        for _ in range(count)
    ]
    alpha = np.clip(fill(size, [outline]) - fill(size, cut), 0, 1)
    return texture(), alpha


def solid(rng: np.random.Generator, size: int, texture: Texture) -> tuple[np.ndarray, np.ndarray]:
    """An opaque object whose colour has fine texture: fur, fabric or foliage on a solid body.

    Strands painted into the colour but not the alpha, so that fine texture inside an object
    is not read as transparency (the other kinds tie fine structure to partial alpha).
    """
    alpha = fill(size, [_random_blob(rng, size, (0.25, 0.45))])
    fg = texture()
    if rng.random() < 0.75:
        count = int(rng.integers(500, 4000))
        start = rng.uniform(0.05, 0.95, (count, 2)) * size
        flow = rng.uniform(0, 2 * np.pi) + rng.normal(0, rng.uniform(0.1, 1.0), count)
        length = rng.uniform(0.02, 0.1) * size * rng.uniform(0.4, 1.0, count)
        canvas = np.zeros((size, size), np.uint8)
        cv2.polylines(
            canvas, _strands(rng, start, flow, length), False, 255, 1, cv2.LINE_AA, _SHIFT
        )
        paint = texture() if rng.random() < 0.5 else fg * rng.uniform(0.2, 1.8)
        weight = (canvas.astype(np.float32) / 255 * rng.uniform(0.3, 1.0))[..., None]
        fg = np.clip(fg + weight * (paint - fg), 0, 1)
    return fg.astype(np.float32), alpha


# The kinds drawn when a config names none; `solid` is opt-in so that earlier configs keep
# their samples.
DEFAULT_KINDS = ("hair", "wires", "net", "glass", "smoke", "motion", "holes")

GENERATORS = {
    "hair": hair,
    "wires": wires,
    "net": net,
    "glass": glass,
    "smoke": smoke,
    "motion": motion,
    "holes": holes,
    "solid": solid,
}


def texture_from(source, rng: np.random.Generator, size: int) -> np.ndarray:
    """A size×size float32 texture cropped from a random image of source, at a random scale."""
    j = int(rng.integers(len(source)))
    if hasattr(source, "read_u8"):
        image = source.read_u8(j, min_side=size)
    else:
        image = np.clip(np.asarray(source[j]) * 255, 0, 255).astype(np.uint8)
    h, w = image.shape[:2]
    side = max(8, int(min(h, w) * rng.uniform(0.25, 1.0)))
    side = min(side, h, w)
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    patch = np.ascontiguousarray(image[y : y + side, x : x + side])
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    patch = cv2.resize(patch, (size, size), interpolation=interp)
    return patch.astype(np.float32) * np.float32(1 / 255)


class ProceduralForegrounds:
    """An endless-looking set of procedural foregrounds; item i depends only on (seed, i).

    color_source is any image set (len + indexing to an RGB image, e.g. backgrounds.ImageFolder)
    from which colour textures are cropped.
    """

    def __init__(
        self,
        color_source,
        size: int = 512,
        seed: int = 0,
        length: int = 1000,
        kinds: list[str] | None = None,
    ) -> None:
        if len(color_source) == 0:
            raise ValueError("color_source has no images")
        unknown = sorted(set(kinds or ()) - set(GENERATORS))
        if unknown or kinds == []:
            raise ValueError(
                f"procedural kinds {unknown}: expected some of {', '.join(GENERATORS)}"
            )
        self.color_source = color_source
        self.size = size
        self.seed = seed
        self.length = length
        self.kinds = list(kinds or DEFAULT_KINDS)
        self.names = [f"procedural-{i}" for i in range(length)]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= i < self.length:
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, i, 0x9E37])
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        fg, alpha = GENERATORS[kind](
            rng, self.size, lambda: texture_from(self.color_source, rng, self.size)
        )
        return fg.astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32)
