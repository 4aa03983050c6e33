"""Composition-Wild builder: several foregrounds layered over a background, overlapping (Eq. 2).

Each sample holds 2–4 objects. The first is the front layer; each later one is placed so that
10–70 % of it (by its alpha ≥ 0.5 area) lies behind the objects already placed, so every sample
has a front target and at least one occluded one. The visible alpha of layer k is
ᾱk = αk · Π_{j<k} (1 − αj); with the background weight Π(1 − αk) they sum to one per pixel.

Files per sample (NNNN/):
- image.png: the composite, 8-bit RGB, made from the quantised layers below, so re-composing
  it from the saved files is exact to within 1/255;
- background.png, fg_K.png: the background crop and each object's colours on the canvas (8-bit);
- alpha_K.png: the visible (re-calibrated) alpha ᾱK, 16-bit; quantised through the running sum
  so Σ ᾱK never exceeds one; amodal_K.png: the object's own, unoccluded αK, 16-bit;
- guidance_{front,occluded}.png: the paper's guidance, visible alpha ≥ 0.5 dilated kernel×kernel
  (25 by default);
- guidance_{front,occluded}_noisy.png: a mask with a segmentation model's typical errors, made by
  wildmatte.data.guidance.noisy_guidance from the visible alpha: binarised at a threshold drawn
  from [0.2, 0.8] (off threshold), rescaled about its centroid by 1 ± 5–15 % (wrong scale),
  warped by a smooth random field of σ = 1.5 % of the object size (wobbly edge), an elliptical
  piece of 5–15 % of the object size cut out (missing piece) and an elliptical blob of 3–10 %
  added just outside the object (stray blob). It does not necessarily cover the target.

manifest.json records the seed, the sources of every sample and its targets: the front object
and the occluded object (object 1: the second layer, placed partly behind the front), each with
its alpha, both guidance files and the alphas of the other objects (for SAD_OCC).
Sample i draws from np.random.default_rng([seed, i]): the same seed and sources give the same
files, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.backgrounds import random_crop_u8
from wildmatte.data.guidance import noisy_guidance, paper_guidance
from wildmatte.errors import InputError
from wildmatte.files import write_json
from wildmatte.inference.io import to_uint, write_png

FORMAT = "wildmatte-cwild/1"
LONG_SIDE = (0.35, 0.6)  # an object's long side, as a fraction of the canvas
HIDDEN = (0.1, 0.7)  # the fraction of a back object that earlier layers cover
_TRIES = 40


@dataclass
class Sample:
    image: np.ndarray  # H×W×3 uint8
    background: np.ndarray  # H×W×3 uint8
    sources: list[str]
    fgs: list[np.ndarray]  # H×W×3 uint8 per object
    amodal: list[np.ndarray]  # H×W uint16 per object
    visible: list[np.ndarray]  # H×W uint16 per object (ᾱk)
    boxes: list[tuple[int, int, int, int]]
    hidden: list[float] = field(default_factory=list)


def tight_crop(fg: np.ndarray, alpha: np.ndarray, where: object = "") -> tuple:
    """The object cut to the bounding box of alpha > 0."""
    ys, xs = np.nonzero(alpha > 0)
    if not len(ys):
        raise InputError(where, "alpha is empty: nothing to place")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return fg[y0:y1, x0:x1], alpha[y0:y1, x0:x1]


def fit_object(fg: np.ndarray, alpha: np.ndarray, long_side: int) -> tuple:
    """Resize so the longer side is long_side px; colours become uint8, alpha stays float."""
    h, w = alpha.shape
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    fg = cv2.resize(to_uint(fg), size, interpolation=interp)
    alpha = cv2.resize(np.ascontiguousarray(alpha, np.float32), size, interpolation=interp)
    return fg, np.clip(alpha, 0.0, 1.0)


def hidden_fraction(mask: np.ndarray, occupied: np.ndarray, x: int, y: int) -> float:
    """Share of the object's mask that lands on occupied canvas pixels."""
    h, w = mask.shape
    return float((mask & occupied[y : y + h, x : x + w]).sum() / max(1, mask.sum()))


def choose_position(
    mask: np.ndarray, occupied: np.ndarray, rng: np.random.Generator
) -> tuple[int, int, float]:
    """Top-left (x, y) putting an object partly behind the occupied area, and its hidden share.

    Candidates land a random object pixel on a random occupied pixel; the first whose hidden
    share is in HIDDEN wins, else the closest to that range.
    """
    size = occupied.shape[0]
    h, w = mask.shape
    if not occupied.any():
        x, y = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
        return x, y, 0.0
    oy, ox = np.nonzero(occupied)
    my, mx = np.nonzero(mask)
    best = (np.inf, 0, 0, 0.0)
    for _ in range(_TRIES):
        i, j = rng.integers(len(oy)), rng.integers(len(my))
        x = int(np.clip(ox[i] - mx[j], 0, size - w))
        y = int(np.clip(oy[i] - my[j], 0, size - h))
        share = hidden_fraction(mask, occupied, x, y)
        miss = max(HIDDEN[0] - share, share - HIDDEN[1], 0.0)
        if miss < best[0]:
            best = (miss, x, y, share)
        if miss == 0.0:
            break
    return best[1], best[2], best[3]


def quantise_visible(visible: list[np.ndarray]) -> list[np.ndarray]:
    """16-bit ᾱk whose sum never exceeds 65535: each is the step of the rounded running sum."""
    running = np.cumsum(np.stack(visible).astype(np.float64), axis=0)
    levels = np.round(np.clip(running, 0.0, 1.0) * 65535.0).astype(np.int64)
    steps = np.diff(levels, axis=0, prepend=0)
    return [s.astype(np.uint16) for s in steps]


def compose_u8(fgs: list[np.ndarray], visible: list[np.ndarray], bg: np.ndarray) -> np.ndarray:
    """I = Σ ᾱk Fk + (1 − Σ ᾱk) B from the quantised files' values, rounded to 8 bits."""
    weights = [v.astype(np.float64)[..., None] / 65535.0 for v in visible]
    image = (1.0 - sum(weights)) * (bg / 255.0)
    for fg, wgt in zip(fgs, weights):
        image = image + wgt * (fg / 255.0)
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def compose_sample(
    objects: list[tuple[str, np.ndarray, np.ndarray]], bg: np.ndarray, rng: np.random.Generator
) -> Sample:
    """Lay objects (name, fg, alpha), front first, over a square uint8 background."""
    size = bg.shape[0]
    occupied = np.zeros((size, size), bool)
    fgs, amodal, boxes, hidden = [], [], [], []
    for name, fg, alpha in objects:
        fg, alpha = tight_crop(fg, alpha, name)
        fg, alpha = fit_object(fg, alpha, round(size * rng.uniform(*LONG_SIDE)))
        mask = alpha >= 0.5 if (alpha >= 0.5).any() else alpha > 0
        x, y, share = choose_position(mask, occupied, rng)
        h, w = alpha.shape
        canvas_fg = np.zeros((size, size, 3), np.uint8)
        canvas_alpha = np.zeros((size, size), np.float32)
        canvas_fg[y : y + h, x : x + w] = fg
        canvas_alpha[y : y + h, x : x + w] = alpha
        occupied[y : y + h, x : x + w] |= mask
        fgs.append(canvas_fg)
        amodal.append(canvas_alpha)
        boxes.append((x, y, w, h))
        hidden.append(share)
    transmitted = np.ones((size, size), np.float64)
    visible = []
    for alpha in amodal:
        visible.append(alpha * transmitted)
        transmitted = transmitted * (1.0 - alpha)
    visible_q = quantise_visible(visible)
    return Sample(
        image=compose_u8(fgs, visible_q, bg),
        background=bg,
        sources=[name for name, _, _ in objects],
        fgs=fgs,
        amodal=[to_uint(a, 16) for a in amodal],
        visible=visible_q,
        boxes=boxes,
        hidden=hidden,
    )


def target_guidance(visible_u16: np.ndarray, rng: np.random.Generator, kernel: int) -> tuple:
    """(paper, noisy) uint8 guidance masks made from a saved (quantised) visible alpha."""
    gt = visible_u16.astype(np.float32) / 65535.0
    paper = paper_guidance(gt, kernel)
    noisy = noisy_guidance(gt, rng)
    return to_uint(paper), to_uint(noisy)


class _Pool:
    """Indices of a dataset that read cleanly; a bad file is reported once and never drawn again."""

    def __init__(self, read, names: list[str]) -> None:
        self.read, self.names = read, names
        self.ok = list(range(len(names)))
        self.failures: list[str] = []

    def draw(self, rng: np.random.Generator, k: int, where: object, least: int = 1) -> list:
        """k distinct readable items (fewer, down to `least`, when fewer are left)."""
        while True:
            if len(self.ok) < least:
                raise InputError(
                    where, f"needs at least {least} readable images, has {len(self.ok)}"
                )
            n = min(k, len(self.ok))
            picks = [int(i) for i in rng.choice(self.ok, size=n, replace=False)]
            items = []
            for i in picks:
                try:
                    items.append((self.names[i], self.read(i)))
                except InputError as err:
                    self.failures.append(str(err))
                    self.ok.remove(i)
                    break
            else:
                return items


def _write_sample(out: Path, name: str, sample: Sample, guidance: dict) -> dict:
    folder = out / name

    def rel(file: str) -> str:
        return f"{name}/{file}"

    write_png(folder / "image.png", sample.image)
    write_png(folder / "background.png", sample.background)
    objects = []
    for k in range(len(sample.sources)):
        write_png(folder / f"fg_{k}.png", sample.fgs[k])
        write_png(folder / f"alpha_{k}.png", sample.visible[k])
        write_png(folder / f"amodal_{k}.png", sample.amodal[k])
        objects.append(
            {
                "source": sample.sources[k],
                "fg": rel(f"fg_{k}.png"),
                "alpha": rel(f"alpha_{k}.png"),
                "amodal": rel(f"amodal_{k}.png"),
                "box": list(sample.boxes[k]),
                "hidden": round(sample.hidden[k], 4),
            }
        )
    targets = []
    for role, k in (("front", 0), ("occluded", 1)):
        paper, noisy = guidance[role]
        write_png(folder / f"guidance_{role}.png", paper)
        write_png(folder / f"guidance_{role}_noisy.png", noisy)
        targets.append(
            {
                "name": f"{name}-{role}",
                "role": role,
                "object": k,
                "alpha": rel(f"alpha_{k}.png"),
                "guidance": {
                    "paper": rel(f"guidance_{role}.png"),
                    "noisy": rel(f"guidance_{role}_noisy.png"),
                },
                "others": [rel(f"alpha_{j}.png") for j in range(len(objects)) if j != k],
            }
        )
    return {
        "name": name,
        "image": rel("image.png"),
        "background": rel("background.png"),
        "objects": objects,
        "targets": targets,
    }


@dataclass
class BuildReport:
    manifest: Path
    samples: int
    failures: list[str]


def build_cwild(
    fgset,
    bgset,
    out: Path,
    n: int = 30,
    size: int = 512,
    seed: int = 0,
    kernel: int = 25,
    objects: tuple[int, int] = (2, 4),
    sources: dict | None = None,
    progress: bool = False,
) -> BuildReport:
    """Write n samples of size² into out/ and its manifest.json.

    fgset: items (fg, alpha) float32 with .names (wildmatte.data.foregrounds);
    bgset: an ImageFolder (wildmatte.data.backgrounds). sources: recorded in the manifest.
    """
    from tqdm import tqdm

    out = Path(out)
    if len(fgset) < 2:
        raise InputError(getattr(fgset, "root", "--fg"), "needs at least 2 foregrounds")
    fg_pool = _Pool(lambda i: fgset[i], list(fgset.names))
    bg_pool = _Pool(lambda i: bgset.read_u8(i, min_side=size), list(bgset.names))
    samples = []
    for i in tqdm(range(n), desc="cwild", disable=not progress):
        rng = np.random.default_rng([seed, i])
        k = int(rng.integers(objects[0], objects[1] + 1))
        picked = fg_pool.draw(rng, k, "--fg", least=2)
        ((bg_name, bg_image),) = bg_pool.draw(rng, 1, "--bg")
        bg = random_crop_u8(bg_image, size, rng)
        sample = compose_sample([(nm, fg, a) for nm, (fg, a) in picked], bg, rng)
        guidance = {
            role: target_guidance(sample.visible[k], rng, kernel)
            for role, k in (("front", 0), ("occluded", 1))
        }
        entry = _write_sample(out, f"{i:04d}", sample, guidance)
        entry["background_source"] = bg_name
        samples.append(entry)
    manifest = {
        "format": FORMAT,
        "seed": seed,
        "n": n,
        "size": size,
        "kernel": kernel,
        "objects": list(objects),
        "sources": sources or {},
        "failures": fg_pool.failures + bg_pool.failures,
        "samples": samples,
    }
    path = write_json(out / "manifest.json", manifest)
    return BuildReport(path, len(samples), manifest["failures"])
