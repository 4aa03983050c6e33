"""Wild set: a Composition-Wild-style benchmark built independently of the training data.

Nothing here comes from the training data generator (wildmatte.data's compositing, guidance,
procedural shapes, augmentation and background code) or from the project's Composition-Wild
builder (evaluation/cwild.py): the layering, the effects, the augmentations and both kinds of
guidance are this module's own. From wildmatte.data it takes only the list of held-out
categories (categories.held_out) and the train/validation split by name (split.train_val_split).

Sources: the cutouts of the categories that training never sees, split by a hash of the file
name into a tune part (about a third) and a test part (the rest), and the backgrounds of the
validation split. Each sample is an 800×600 canvas (training uses squares of 320–512) with 2–3
layers over a background, layered front to back with the over operator: the visible alpha of
layer k is αk · Π_{j<k} (1 − αj) and, with the background weight Π (1 − αk), they sum to one.
Layer 0 is the front target; layer 1, the occluded target, is placed so that 15–60 % of it lies
behind layer 0; an optional third layer sits behind them.

Each target object gets one effect, which sets its categories:
- plain cutout: `opaque`;
- strands (hair, fur, grass along an arc of its outline) or a drawn dandelion-like seed head:
  `fine`; the curves are drawn 4× supersampled and downscaled, so alpha is fractional across
  every strand;
- uniform opacity ×0.25–0.7, a linear or radial opacity ramp, or motion blur: `partial`;
- an elliptical hole punched through the opaque interior (a ring): `interior`; a cutout with
  real holes of its own (one ≥ 1 % of its area) is `interior` too, unless motion-blurred.
The occluded target is also `occluded`.

Guidance per target, from its saved visible alpha:
- paper: alpha ≥ 0.5 dilated by a 25×25 square (the paper's formula); for `partial` targets,
  whose alpha may be below 0.5 everywhere, alpha > 0.05, since a user's mask covers the object;
- noisy: a segmenter's typical errors (see noisy_guidance): a random threshold, opening and
  closing, a simplified polygon, a shifted boundary, a chunk cut off by a line, a stray blob.

The files and manifest.json follow the Composition-Wild layout (FORMAT), so `wildmatte bench
eval` reads the set unchanged; targets also carry "categories" and "sources". Sample i draws
from np.random.default_rng([seed, i]): the same seed and sources give the same files.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.categories import held_out
from wildmatte.data.split import train_val_split
from wildmatte.errors import InputError
from wildmatte.files import write_bytes, write_json

FORMAT = "wildmatte-cwild/1"  # the layout `bench eval` reads
BUILDER = "wildset/1"
CANVAS = (600, 800)  # height, width
SETS = {"tune": (30, 16_001), "test": (60, 16_002)}  # split → (samples, seed)
TUNE_SHARE = 1 / 3
BG_VAL_FRACTION = 0.12
CATEGORIES = ("opaque", "fine", "partial", "occluded", "interior")
LONG_SIDE = (0.45, 0.8)  # an object's long side, as a fraction of the canvas height
MAX_UPSCALE = 2.5
HIDDEN = (0.15, 0.6)  # the share of the occluded target behind the layers in front
SUPERSAMPLE = 4
EFFECTS = {  # effect → (category, weight when drawing a target's effect)
    "plain": ("opaque", 0.26),
    "strands": ("fine", 0.2),
    "dandelion": ("fine", 0.06),
    "uniform": ("partial", 0.14),
    "ramp": ("partial", 0.1),
    "motion": ("partial", 0.1),
    "ring": ("interior", 0.14),
}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


# ---------------------------------------------------------------- sources


def unit_hash(name: str) -> float:
    """A name's place in [0, 1), from the SHA-1 of its bytes."""
    return int.from_bytes(hashlib.sha1(name.encode("utf-8")).digest()[:8], "big") / 2**64


def split_cutouts(names: list[str], split: str) -> list[str]:
    """The held-out cutouts of one split: tune (hash < 1/3) or test (the rest)."""
    if split not in SETS:
        raise ValueError(f"unknown split {split!r}: expected {' or '.join(SETS)}")
    tune = split == "tune"
    return [n for n in held_out(sorted(names)) if (unit_hash(n) < TUNE_SHARE) == tune]


def validation_backgrounds(names: list[str]) -> list[str]:
    """The backgrounds of the validation split (training never sees them)."""
    return train_val_split(sorted(names), BG_VAL_FRACTION)[1]


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    if not folder.is_dir():
        raise InputError(folder, "not a folder")
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in suffixes)


def read_cutout(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha) float32 in [0, 1] of an RGBA image, cut to the box of alpha > 0."""
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise InputError(path, "cannot be read as an image")
    if raw.ndim != 3 or raw.shape[2] != 4:
        raise InputError(path, "has no alpha channel: expected an RGBA cutout")
    scale = 65535.0 if raw.dtype == np.uint16 else 255.0
    rgba = raw.astype(np.float32) / scale
    rgb, alpha = cv2.cvtColor(rgba[..., :3], cv2.COLOR_BGR2RGB), rgba[..., 3]
    ys, xs = np.nonzero(alpha > 0)
    if not len(ys):
        raise InputError(path, "alpha is empty: nothing to place")
    box = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return rgb[box], alpha[box]


def read_background(path: Path, canvas: tuple[int, int]) -> np.ndarray:
    """RGB uint8, at least the canvas's size (upscaled when smaller)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "cannot be read as an image")
    scale = max(canvas[0] / image.shape[0], canvas[1] / image.shape[1], 1.0)
    if scale > 1:
        size = (int(np.ceil(image.shape[1] * scale)), int(np.ceil(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _read_all(folder: Path, names: list[str], read) -> tuple[dict, list[str]]:
    """{name: read(path)} for the files that read cleanly, and one line per file that did not."""
    items, failures = {}, []
    for name in names:
        try:
            items[name] = read(folder / name)
        except InputError as err:
            failures.append(str(err))
    return items, failures


# ---------------------------------------------------------------- one object


@dataclass
class Layer:
    """One object in its own frame: straight colours and alpha, float32."""

    rgb: np.ndarray
    alpha: np.ndarray
    source: str
    effect: dict = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)


def _unpremultiply(premultiplied: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    safe = np.maximum(alpha, 1e-6)[..., None]
    return np.clip(premultiplied / safe, 0.0, 1.0).astype(np.float32)


def resize_layer(rgb: np.ndarray, alpha: np.ndarray, size: tuple[int, int]) -> tuple:
    """Resize (w, h) through premultiplied colour, so no dark fringe comes from alpha = 0."""
    interp = cv2.INTER_AREA if size[0] < alpha.shape[1] else cv2.INTER_CUBIC
    pre = cv2.resize(rgb * alpha[..., None], size, interpolation=interp)
    alpha = np.clip(cv2.resize(alpha, size, interpolation=interp), 0.0, 1.0)
    return _unpremultiply(pre, alpha), alpha


def augment(rgb: np.ndarray, alpha: np.ndarray, long_side: int, rng: np.random.Generator):
    """Mirror, scale to long_side, rotate by up to 20°, and jitter colour (gain and gamma)."""
    if rng.random() < 0.5:
        rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
    h, w = alpha.shape
    scale = min(long_side / max(h, w), MAX_UPSCALE)
    rgb, alpha = resize_layer(
        np.ascontiguousarray(rgb),
        np.ascontiguousarray(alpha),
        (max(1, round(w * scale)), max(1, round(h * scale))),
    )
    angle = rng.uniform(-20, 20)
    h, w = alpha.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    new_w, new_h = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    turn[:, 2] += ((new_w - w) / 2, (new_h - h) / 2)
    pre = cv2.warpAffine(rgb * alpha[..., None], turn, (new_w, new_h), flags=cv2.INTER_LINEAR)
    alpha = np.clip(cv2.warpAffine(alpha, turn, (new_w, new_h), flags=cv2.INTER_LINEAR), 0, 1)
    rgb = _unpremultiply(pre, alpha)
    gain = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    rgb = np.clip(rgb * gain, 0.0, 1.0) ** np.float32(rng.uniform(0.8, 1.25))
    return rgb.astype(np.float32), alpha.astype(np.float32)


def pad_layer(rgb: np.ndarray, alpha: np.ndarray, pad: int) -> tuple:
    """Room around the object for strands and blur to spread into."""
    return (
        np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge"),
        np.pad(alpha, pad),
    )


def over(top_rgb, top_alpha, rgb, alpha) -> tuple:
    """The over operator for two straight-colour layers of the same frame."""
    out = top_alpha + alpha * (1.0 - top_alpha)
    pre = top_rgb * top_alpha[..., None] + rgb * (alpha * (1.0 - top_alpha))[..., None]
    return _unpremultiply(pre, out), out.astype(np.float32)


def draw_supersampled(shape: tuple[int, int], draw) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, premultiplied RGB) of `draw(alpha_u8, colour_u8, factor)` drawn 4× larger.

    Area downscaling turns sub-pixel widths into fractional alpha, as a camera would.
    """
    big = (shape[0] * SUPERSAMPLE, shape[1] * SUPERSAMPLE)
    alpha_big = np.zeros(big, np.uint8)
    colour_big = np.zeros((*big, 3), np.uint8)
    draw(alpha_big, colour_big, SUPERSAMPLE)
    size = (shape[1], shape[0])
    coverage = cv2.resize(alpha_big.astype(np.float32) / 255.0, size, interpolation=cv2.INTER_AREA)
    weighted = colour_big * (alpha_big[..., None] / np.float32(255.0 * 255.0))  # float32
    pre = cv2.resize(weighted, size, interpolation=cv2.INTER_AREA)
    return np.clip(coverage, 0.0, 1.0), pre


def _curve(start, direction, length, bend, points: int = 10) -> np.ndarray:
    """A quadratic Bézier from start, `length` along direction, its middle pushed by `bend`."""
    normal = np.array([-direction[1], direction[0]])
    end = start + direction * length
    control = (start + end) / 2 + normal * bend * length
    t = np.linspace(0.0, 1.0, points)[:, None]
    return (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end


def _outline(alpha: np.ndarray) -> np.ndarray:
    """The points (x, y) of the longest outer contour of alpha ≥ 0.5."""
    mask = (alpha >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return np.zeros((0, 2))
    return max(contours, key=len)[:, 0, :].astype(np.float64)


def _outward_normals(alpha: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Unit normals pointing out of the object: minus the gradient of the smoothed alpha."""
    smooth = cv2.GaussianBlur(alpha, (0, 0), 4)
    gy, gx = np.gradient(smooth)
    xs, ys = points[:, 0].astype(int), points[:, 1].astype(int)
    normals = -np.stack([gx[ys, xs], gy[ys, xs]], axis=1)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)


def add_strands(layer: Layer, rng: np.random.Generator) -> Layer:
    """Hair, fur or grass: thin curves rooted just inside an arc of the outline, pointing out."""
    outline = _outline(layer.alpha)
    if len(outline) < 20:
        return layer
    size = float(np.sqrt((layer.alpha >= 0.5).sum()))
    arc = int(len(outline) * rng.uniform(0.25, 0.7))
    first = int(rng.integers(len(outline)))
    idx = (first + np.arange(arc)) % len(outline)
    count = int(arc / rng.uniform(1.2, 3.5))
    roots = outline[rng.choice(idx, count)]
    normals = _outward_normals(layer.alpha, roots)
    base = np.median(layer.rgb[layer.alpha >= 0.5], axis=0)
    if rng.random() < 0.6:  # the object's own colour, lighter or darker
        colour = base * rng.uniform(0.6, 1.3)
    else:  # a foreign colour (grass on a stone, a dyed tuft)
        colour = rng.uniform(0.05, 0.95, 3)
    lengths = size * rng.uniform(0.04, 0.16) * rng.uniform(0.5, 1.0, count)

    def draw(alpha_big, colour_big, f):
        for root, normal, length in zip(roots, normals, lengths):
            turn = rng.normal(0.0, 0.35)
            c, s = np.cos(turn), np.sin(turn)
            direction = np.array([c * normal[0] - s * normal[1], s * normal[0] + c * normal[1]])
            start = root - direction * 2.0  # rooted 2 px inside, so strands stay attached
            line = _curve(start, direction, length, rng.uniform(-0.3, 0.3)) * f
            width = int(rng.integers(1, 4))  # 1–3 of 4 sub-pixels: 0.25–0.75 px wide
            shade = np.clip(colour * rng.uniform(0.8, 1.2), 0, 1) * 255
            pts = [np.round(line).astype(np.int32)]
            cv2.polylines(alpha_big, pts, False, 255, width, cv2.LINE_AA)
            cv2.polylines(colour_big, pts, False, tuple(map(float, shade)), width, cv2.LINE_AA)

    coverage, pre = draw_supersampled(layer.alpha.shape, draw)
    rgb, alpha = over(_unpremultiply(pre, coverage), coverage, layer.rgb, layer.alpha)
    effect = {"kind": "strands", "count": count, "arc": round(arc / len(outline), 3)}
    return Layer(rgb, alpha, layer.source, effect)


def dandelion(side: int, rng: np.random.Generator) -> Layer:
    """A seed head drawn from nothing: a small core, radial filaments with tufts, a stem."""
    shape = (side, side)
    centre = np.array([side / 2, side * 0.42])
    radius = side * rng.uniform(0.3, 0.38)
    count = int(rng.integers(90, 200))
    colour = np.array([0.93, 0.93, 0.9]) * rng.uniform(0.85, 1.0, 3)

    def draw(alpha_big, colour_big, f):
        def line(points, width, shade):
            pts = [np.round(np.asarray(points) * f).astype(np.int32)]
            cv2.polylines(alpha_big, pts, False, 255, width, cv2.LINE_AA)
            cv2.polylines(
                colour_big, pts, False, tuple(map(float, shade * 255)), width, cv2.LINE_AA
            )

        stem_end = np.array([side / 2 + rng.uniform(-0.1, 0.1) * side, side - 2.0])
        line([centre, (centre + stem_end) / 2 + [side * 0.03, 0], stem_end], 3 * f, colour * 0.55)
        for angle in rng.uniform(0, 2 * np.pi, count):
            direction = np.array([np.cos(angle), np.sin(angle)])
            length = radius * rng.uniform(0.75, 1.0)
            stalk = _curve(centre, direction, length, rng.uniform(-0.08, 0.08))
            line(stalk, 1, colour)
            for spread in rng.uniform(-0.6, 0.6, int(rng.integers(4, 8))):
                c, s = np.cos(spread), np.sin(spread)
                fan = np.array(
                    [c * direction[0] - s * direction[1], s * direction[0] + c * direction[1]]
                )
                line(_curve(stalk[-1], fan, radius * rng.uniform(0.12, 0.22), 0.1), 1, colour)
        core = tuple(int(v) for v in np.round(centre * f))
        cv2.circle(alpha_big, core, int(radius * 0.12 * f), 255, -1, cv2.LINE_AA)
        cv2.circle(colour_big, core, int(radius * 0.12 * f), (150, 130, 80), -1, cv2.LINE_AA)

    coverage, pre = draw_supersampled(shape, draw)
    effect = {"kind": "dandelion", "filaments": count}
    return Layer(_unpremultiply(pre, coverage), coverage, "generated:dandelion", effect)


def uniform_opacity(layer: Layer, rng: np.random.Generator) -> Layer:
    """Glass, smoke, sheer fabric: the whole alpha scaled by 0.25–0.7."""
    factor = float(rng.uniform(0.25, 0.7))
    return Layer(
        layer.rgb,
        layer.alpha * factor,
        layer.source,
        {"kind": "uniform", "factor": round(factor, 3)},
    )


def opacity_ramp(layer: Layer, rng: np.random.Generator) -> Layer:
    """Alpha times a linear (random direction) or radial ramp from `low` to `high`."""
    h, w = layer.alpha.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    low, high = float(rng.uniform(0.05, 0.3)), float(rng.uniform(0.6, 1.0))
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        t = xs * np.cos(angle) + ys * np.sin(angle)
        kind = "linear"
    else:
        t = -np.hypot(xs - rng.uniform(0.3, 0.7) * w, ys - rng.uniform(0.3, 0.7) * h)
        kind = "radial"
    inside = layer.alpha > 0
    t = (t - t[inside].min()) / max(float(np.ptp(t[inside])), 1e-6)
    ramp = low + (high - low) * np.clip(t, 0, 1)
    effect = {"kind": "ramp", "shape": kind, "low": round(low, 3), "high": round(high, 3)}
    return Layer(layer.rgb, (layer.alpha * ramp).astype(np.float32), layer.source, effect)


def motion_blur(layer: Layer, rng: np.random.Generator) -> Layer:
    """A straight streak of 5–15 % of the object's size at a random angle."""
    size = max(layer.alpha.shape)
    length = max(3, int(size * rng.uniform(0.05, 0.15)))
    angle = rng.uniform(0, np.pi)
    kernel = np.zeros((length | 1, length | 1), np.float32)
    mid, half = (length | 1) // 2, (length - 1) / 2
    tip = np.array([np.cos(angle), np.sin(angle)]) * half
    a, b = np.round(mid - tip).astype(int), np.round(mid + tip).astype(int)
    cv2.line(kernel, tuple(map(int, a)), tuple(map(int, b)), 1.0, 1, cv2.LINE_AA)
    kernel /= kernel.sum()
    pre = cv2.filter2D(
        layer.rgb * layer.alpha[..., None], -1, kernel, borderType=cv2.BORDER_CONSTANT
    )
    alpha = np.clip(cv2.filter2D(layer.alpha, -1, kernel, borderType=cv2.BORDER_CONSTANT), 0, 1)
    effect = {"kind": "motion", "length": length, "angle": round(float(np.degrees(angle)), 1)}
    return Layer(_unpremultiply(pre, alpha), alpha, layer.source, effect)


def punch_hole(layer: Layer, rng: np.random.Generator) -> Layer | None:
    """A ring: an elliptical hole through the opaque interior, its rim at least 30 % of the
    local depth; None when the object has no interior deep enough (≥ 12 px)."""
    solid = (layer.alpha >= 0.99).astype(np.uint8)
    depth = cv2.distanceTransform(np.pad(solid, 1), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    if depth.max() < 12:
        return None
    ys, xs = np.nonzero(depth >= 0.6 * depth.max())
    i = int(rng.integers(len(ys)))
    centre, room = (float(xs[i]), float(ys[i])), float(depth[ys[i], xs[i]])
    major = room * rng.uniform(0.4, 0.7)
    axes = (major, major * rng.uniform(0.5, 1.0))
    angle = float(rng.uniform(0, 180))

    def draw(alpha_big, colour_big, f):
        c = (round(centre[0] * f), round(centre[1] * f))
        cv2.ellipse(alpha_big, (c, (2 * axes[0] * f, 2 * axes[1] * f), angle), 255, -1, cv2.LINE_AA)

    hole, _ = draw_supersampled(layer.alpha.shape, draw)
    alpha = (layer.alpha * (1.0 - hole)).astype(np.float32)
    effect = {
        "kind": "ring",
        "centre": [round(v, 1) for v in centre],
        "axes": [round(v, 1) for v in axes],
    }
    return Layer(layer.rgb, alpha, layer.source, effect)


def has_holes(alpha: np.ndarray, share: float = 0.01, least: int = 40) -> bool:
    """Whether alpha ≥ 0.5 encloses a real hole: one of ≥ `share` of its area and ≥ `least` px
    (a guitar's sound hole, a toolbox's handle; not the specks between a broccoli's florets)."""
    mask = (alpha >= 0.5).astype(np.uint8)
    contours, tree = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if tree is None:
        return False
    areas = [cv2.contourArea(c) for c, node in zip(contours, tree[0]) if node[3] >= 0]
    return bool(areas) and max(areas) >= max(least, share * mask.sum())


EFFECT_MAKERS = {
    "strands": add_strands,
    "uniform": uniform_opacity,
    "ramp": opacity_ramp,
    "motion": motion_blur,
    "ring": punch_hole,
}


def draw_effect(rng: np.random.Generator) -> str:
    names = list(EFFECTS)
    weights = np.array([EFFECTS[n][1] for n in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def make_layer(
    name: str, cutout: tuple, effect: str, long_side: int, rng: np.random.Generator
) -> Layer:
    """An augmented cutout (or a drawn dandelion) with its effect, cut to alpha > 0."""
    holes = False
    if effect == "dandelion":
        layer = dandelion(long_side, rng)
    else:
        rgb, alpha = augment(*cutout, long_side, rng)
        # The cutout's own holes, before strands can close any; motion blur smears them away.
        holes = effect != "motion" and has_holes(alpha)
        rgb, alpha = pad_layer(rgb, alpha, max(4, int(0.12 * long_side)))
        layer = Layer(rgb, alpha, name, {"kind": "plain"})
        if effect in EFFECT_MAKERS:  # a ring needs a deep enough interior, else stays plain
            layer = EFFECT_MAKERS[effect](layer, rng) or layer
    ys, xs = np.nonzero(layer.alpha > 1e-4)
    box = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    layer.rgb, layer.alpha = layer.rgb[box], layer.alpha[box]
    categories = {EFFECTS[layer.effect["kind"]][0]} | ({"interior"} if holes else set())
    layer.categories = [c for c in CATEGORIES if c in categories]
    return layer


# ---------------------------------------------------------------- the canvas


def paste_array(array: np.ndarray, x: int, y: int, canvas: tuple[int, int]) -> np.ndarray:
    """A canvas-sized array (zeros) holding `array` with its top-left at (x, y), clipped."""
    out = np.zeros((*canvas, *array.shape[2:]), array.dtype)
    h, w = array.shape[:2]
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + h, canvas[0]), min(x + w, canvas[1])
    if y1 > y0 and x1 > x0:
        out[y0:y1, x0:x1] = array[y0 - y : y1 - y, x0 - x : x1 - x]
    return out


def place_behind(
    layer: Layer, anchor: tuple[float, float], covered: np.ndarray, rng: np.random.Generator
) -> tuple[int, int, float]:
    """Top-left (x, y) putting the layer partly behind `covered`, near the anchor (x, y) centre,
    and the share of it hidden: 40 tries of a random offset, the first share in HIDDEN wins,
    else the closest. Objects must keep ≥ 75 % of themselves on the canvas."""
    h, w = layer.alpha.shape
    body = layer.alpha > 0.1
    total = max(1, int(body.sum()))
    best = (np.inf, 0, 0, 0.0)
    for _ in range(40):
        angle = rng.uniform(0, 2 * np.pi)
        reach = rng.uniform(0.2, 0.8) * (max(h, w) / 2 + min(covered.shape) / 4)
        cx, cy = anchor[0] + reach * np.cos(angle), anchor[1] + reach * np.sin(angle)
        x, y = int(cx - w / 2), int(cy - h / 2)
        mask = paste_array(body, x, y, covered.shape)
        on_canvas = mask.sum() / total
        share = float((mask & covered).sum() / total)
        miss = max(HIDDEN[0] - share, share - HIDDEN[1], 0.0) + max(0.75 - on_canvas, 0.0)
        if miss < best[0]:
            best = (miss, x, y, share)
        if miss == 0.0:
            break
    return best[1], best[2], best[3]


def crop_background(image: np.ndarray, canvas: tuple[int, int], rng: np.random.Generator):
    """A random crop of 1–2× the canvas (as the image allows), resized to it, maybe mirrored."""
    room = min(image.shape[0] / canvas[0], image.shape[1] / canvas[1])
    zoom = rng.uniform(1.0, min(room, 2.0))
    ch, cw = (
        min(image.shape[0], round(canvas[0] * zoom)),
        min(image.shape[1], round(canvas[1] * zoom)),
    )
    y, x = (
        int(rng.integers(0, image.shape[0] - ch + 1)),
        int(rng.integers(0, image.shape[1] - cw + 1)),
    )
    crop = cv2.resize(image[y : y + ch, x : x + cw], canvas[::-1], interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop[:, ::-1] if rng.random() < 0.5 else crop)


def visible_alphas(amodal: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """(ᾱk = αk · Π_{j<k} (1 − αj) per layer, front first; the background weight Π (1 − αk))."""
    through = np.ones(amodal[0].shape, np.float64)
    visible = []
    for alpha in amodal:
        visible.append(alpha.astype(np.float64) * through)
        through = through * (1.0 - alpha)
    return visible, through


def quantise(visible: list[np.ndarray]) -> list[np.ndarray]:
    """16-bit ᾱk summing to at most 65535: steps of the rounded running sum."""
    levels = np.round(np.clip(np.cumsum(visible, axis=0), 0, 1) * 65535).astype(np.int64)
    return [s.astype(np.uint16) for s in np.diff(levels, axis=0, prepend=0)]


def composite(fgs: list[np.ndarray], visible_u16: list[np.ndarray], bg: np.ndarray) -> np.ndarray:
    """I = Σ ᾱk Fk + (1 − Σ ᾱk) B from the saved 8-bit colours and 16-bit alphas."""
    weights = [v.astype(np.float64)[..., None] / 65535.0 for v in visible_u16]
    image = (1.0 - sum(weights)) * bg.astype(np.float64)
    for fg, weight in zip(fgs, weights):
        image += weight * fg.astype(np.float64)
    return np.round(np.clip(image, 0, 255)).astype(np.uint8)


# ---------------------------------------------------------------- guidance


def square_dilate(mask: np.ndarray, kernel: int) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((kernel, kernel), np.uint8)) > 0


def paper_guidance(alpha: np.ndarray, partial: bool, kernel: int = 25) -> np.ndarray:
    """alpha ≥ 0.5 (alpha > 0.05 for partial-opacity targets) dilated by a kernel² square."""
    return square_dilate(alpha > 0.05 if partial else alpha >= 0.5, kernel)


def _odd(value: float) -> int:
    return max(1, int(value) // 2 * 2 + 1)


def _disc(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def noisy_guidance(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mask with a segmenter's typical errors, each drawn at random:

    threshold at 15–85 % of the target's peak alpha (thin or faint parts come and go); opening
    and closing by discs of 1–4 % of the object's size; its outline simplified to a polygon
    (tolerance 0.5–1.5 %; holes kept or filled, as the segmenter happens to); the boundary
    moved in or out by up to 3 % (a distance transform); with p = 0.6 a chunk cut off by a
    line 3–12 % inside the edge; with p = 0.6 a false blob of 3–8 % placed 0–10 % outside.
    """
    peak = float(alpha.max())
    mask = alpha > max(peak * rng.uniform(0.15, 0.85), 1e-3)
    if not mask.any():
        return mask
    size = float(np.sqrt(mask.sum()))
    for op in (cv2.MORPH_OPEN, cv2.MORPH_CLOSE):
        k = _odd(size * rng.uniform(0.01, 0.04))
        mask = cv2.morphologyEx(mask.astype(np.uint8), op, _disc(k)) > 0 if k > 1 else mask
    if not mask.any():
        mask = alpha > peak * 0.5
    mode = cv2.RETR_CCOMP if rng.random() < 0.5 else cv2.RETR_EXTERNAL
    contours, _ = cv2.findContours(mask.astype(np.uint8), mode, cv2.CHAIN_APPROX_NONE)
    tolerance = size * rng.uniform(0.005, 0.015)
    polygons = [cv2.approxPolyDP(c, tolerance, True) for c in contours]
    simple = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(simple, polygons, -1, 1, -1)  # even-odd nesting keeps CCOMP holes
    mask = simple > 0 if simple.any() else mask
    shift = size * rng.uniform(-0.03, 0.03)
    if abs(shift) >= 1:
        source = ~mask if shift > 0 else mask
        dist = cv2.distanceTransform(source.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        mask = (mask | (dist <= shift)) if shift > 0 else (dist > -shift)
    if rng.random() < 0.6 and mask.any():
        mask = _cut_chunk(mask, size, rng)
    if rng.random() < 0.6 and mask.any():
        mask = _add_blob(mask, size, rng)
    return mask


def _cut_chunk(mask: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """Remove what lies beyond a line through the object, `depth` inside a random edge point."""
    ys, xs = np.nonzero(mask)
    centre = np.array([xs.mean(), ys.mean()])
    edge = _outline(mask.astype(np.float32))
    point = edge[int(rng.integers(len(edge)))] if len(edge) else centre
    normal = point - centre
    normal = normal / max(np.linalg.norm(normal), 1e-9)
    turn = rng.normal(0.0, 0.4)
    c, s = np.cos(turn), np.sin(turn)
    normal = np.array([c * normal[0] - s * normal[1], s * normal[0] + c * normal[1]])
    depth = size * rng.uniform(0.03, 0.12)
    gy, gx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    beyond = (gx - point[0]) * normal[0] + (gy - point[1]) * normal[1] > -depth
    cut = mask & ~beyond
    return cut if cut.sum() > 0.5 * mask.sum() else mask


def _add_blob(mask: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """An elliptical false positive 0–10 % of the object's size outside its edge."""
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    gap = size * rng.uniform(0.0, 0.1)
    ys, xs = np.nonzero((outside > gap) & (outside <= gap + 3))
    if not len(ys):
        return mask
    i = int(rng.integers(len(ys)))
    axes = tuple(max(1, int(size * rng.uniform(0.03, 0.08))) for _ in range(2))
    blob = np.zeros(mask.shape, np.uint8)
    cv2.ellipse(blob, (int(xs[i]), int(ys[i])), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask | (blob > 0)


# ---------------------------------------------------------------- a sample


@dataclass
class Sample:
    image: np.ndarray  # H×W×3 uint8
    background: np.ndarray  # H×W×3 uint8
    layers: list[Layer]
    fgs: list[np.ndarray]  # canvas RGB uint8 per layer
    amodal: list[np.ndarray]  # canvas alpha float per layer (unoccluded)
    visible: list[np.ndarray]  # canvas ᾱk uint16 per layer
    background_weight: np.ndarray  # Π (1 − αk), float64
    boxes: list[tuple[int, int, int, int]]
    hidden: list[float]


def _long_side(canvas: tuple[int, int], rng: np.random.Generator) -> int:
    return int(canvas[0] * rng.uniform(*LONG_SIDE))


def make_sample(
    cutouts: dict, bg: np.ndarray, rng: np.random.Generator, canvas: tuple[int, int] = CANVAS
) -> Sample:
    """2–3 layers over a background crop: front target, occluded target, maybe a third behind."""
    count = int(rng.integers(2, 4))
    names = [
        str(n) for n in rng.choice(sorted(cutouts), size=min(count, len(cutouts)), replace=False)
    ]
    effects = [draw_effect(rng), draw_effect(rng)] + ["plain"] * (len(names) - 2)
    layers = [
        make_layer(n, cutouts[n], e, _long_side(canvas, rng), rng) for n, e in zip(names, effects)
    ]
    h, w = layers[0].alpha.shape
    cx, cy = canvas[1] * rng.uniform(0.35, 0.65), canvas[0] * rng.uniform(0.38, 0.62)
    positions = [(int(cx - w / 2), int(cy - h / 2), 0.0)]
    rgbs, amodal = [], []
    for k, layer in enumerate(layers):
        if k:
            covered = np.max(amodal, axis=0) > 0.1
            anchor = (cx, cy) if k == 1 else tuple(np.argwhere(covered).mean(axis=0)[::-1])
            positions.append(place_behind(layer, anchor, covered, rng))
        x, y = positions[k][:2]
        rgbs.append(paste_array(layer.rgb, x, y, canvas))
        amodal.append(paste_array(layer.alpha, x, y, canvas))
    visible, through = visible_alphas(amodal)
    fgs = [np.round(rgb * 255).astype(np.uint8) for rgb in rgbs]
    visible_u16 = quantise(visible)
    background = crop_background(bg, canvas, rng)
    layers[1].categories = [c for c in CATEGORIES if c in {*layers[1].categories, "occluded"}]
    return Sample(
        image=composite(fgs, visible_u16, background),
        background=background,
        layers=layers,
        fgs=fgs,
        amodal=amodal,
        visible=visible_u16,
        background_weight=through,
        boxes=[(x, y, *layer.alpha.shape[::-1]) for (x, y, _), layer in zip(positions, layers)],
        hidden=[share for _, _, share in positions],
    )


# ---------------------------------------------------------------- files


def encode_png(array: np.ndarray) -> bytes:
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", array)
    if not ok:
        raise OSError("PNG encoding failed")
    return data.tobytes()


def _u8(mask: np.ndarray) -> np.ndarray:
    return mask.astype(np.uint8) * 255


def write_sample(
    out: Path, name: str, sample: Sample, rng: np.random.Generator, kernel: int
) -> dict:
    """Write one sample's files; its manifest entry (paths relative to out)."""
    files = {"image.png": sample.image, "background.png": sample.background}
    objects, targets = [], []
    for k, layer in enumerate(sample.layers):
        files[f"fg_{k}.png"] = sample.fgs[k]
        files[f"alpha_{k}.png"] = sample.visible[k]
        files[f"amodal_{k}.png"] = np.round(sample.amodal[k] * 65535).astype(np.uint16)
        objects.append(
            {
                "source": layer.source,
                "effect": layer.effect,
                "categories": layer.categories,
                "fg": f"{name}/fg_{k}.png",
                "alpha": f"{name}/alpha_{k}.png",
                "amodal": f"{name}/amodal_{k}.png",
                "box": [int(v) for v in sample.boxes[k]],
                "hidden": round(sample.hidden[k], 4),
            }
        )
    for role, k in (("front", 0), ("occluded", 1)):
        layer = sample.layers[k]
        alpha = sample.visible[k].astype(np.float32) / 65535.0
        files[f"guidance_{role}.png"] = _u8(
            paper_guidance(alpha, "partial" in layer.categories, kernel)
        )
        files[f"guidance_{role}_noisy.png"] = _u8(noisy_guidance(alpha, rng))
        targets.append(
            {
                "name": f"{name}-{role}",
                "role": role,
                "object": k,
                "categories": layer.categories,
                "sources": [layer.source],
                "alpha": f"{name}/alpha_{k}.png",
                "guidance": {
                    "paper": f"{name}/guidance_{role}.png",
                    "noisy": f"{name}/guidance_{role}_noisy.png",
                },
                "others": [f"{name}/alpha_{j}.png" for j in range(len(objects)) if j != k],
            }
        )
    for file, array in files.items():
        write_bytes(out / name / file, encode_png(array))
    return {
        "name": name,
        "image": f"{name}/image.png",
        "background": f"{name}/background.png",
        "objects": objects,
        "targets": targets,
    }


@dataclass
class BuildReport:
    manifest: Path
    samples: int
    categories: dict[str, int]
    failures: list[str]
    seconds: float


def category_counts(samples: list[dict]) -> dict[str, int]:
    targets = [t for s in samples for t in s["targets"]]
    return {c: sum(c in t["categories"] for t in targets) for c in CATEGORIES}


def build_wildset(
    fg_root: Path,
    bg_root: Path,
    out: Path,
    split: str = "tune",
    n: int | None = None,
    seed: int | None = None,
    canvas: tuple[int, int] = CANVAS,
    kernel: int = 25,
    progress: bool = False,
) -> BuildReport:
    """Write the split's samples into out/ and its manifest.json (see the module's notes)."""
    from tqdm import tqdm

    start = time.perf_counter()
    fg_root, bg_root, out = Path(fg_root), Path(bg_root), Path(out)
    n = SETS[split][0] if n is None else n
    seed = SETS[split][1] if seed is None else seed
    cutout_names = split_cutouts(_files(fg_root, (".png",)), split)
    bg_names = validation_backgrounds(_files(bg_root, _IMAGE_SUFFIXES))
    cutouts, failures = _read_all(fg_root, cutout_names, read_cutout)
    backgrounds, more = _read_all(bg_root, bg_names, lambda p: read_background(p, canvas))
    failures += more
    if len(cutouts) < 2:
        raise InputError(
            fg_root, f"needs 2 readable held-out cutouts for {split}, has {len(cutouts)}"
        )
    if not backgrounds:
        raise InputError(bg_root, "no readable backgrounds in the validation split")
    samples, bg_names = [], sorted(backgrounds)
    for i in tqdm(range(n), desc=f"wildset {split}", disable=not progress):
        rng = np.random.default_rng([seed, i])
        bg_name = bg_names[int(rng.integers(len(bg_names)))]
        sample = make_sample(cutouts, backgrounds[bg_name], rng, canvas)
        entry = write_sample(out, f"{i:04d}", sample, rng, kernel)
        entry["background_source"] = bg_name
        samples.append(entry)
    counts = category_counts(samples)
    manifest = {
        "format": FORMAT,
        "builder": BUILDER,
        "split": split,
        "seed": seed,
        "n": n,
        "canvas": [canvas[1], canvas[0]],
        "kernel": kernel,
        "sources": {
            "fg": str(fg_root),
            "bg": str(bg_root),
            "cutouts": sorted(cutouts),
            "backgrounds": sorted(backgrounds),
        },
        "categories": counts,
        "failures": failures,
        "samples": samples,
    }
    path = write_json(out / "manifest.json", manifest)
    return BuildReport(path, len(samples), counts, failures, time.perf_counter() - start)
