"""Benchmark folders as a flat list of cases (one target alpha each), and reading a case.

Layouts:
- cwild: a Composition-Wild set (manifest.json from `wildmatte bench build-cwild`); each sample
  gives two cases, its front and its occluded target, with the saved guidance files (and the
  target's categories where the manifest has them, as the wild set's does);
- aim: AIM-500, `original/*.jpg` photos and `mask/*.png` alpha mattes matched by file stem;
- pairs: any folder with `images/` and `alphas/` matched by file stem.
For aim and pairs the guidance is made from the ground truth: "paper" is alpha ≥ 0.5 dilated
25×25 as in the paper, "noisy" is noisy_guidance with a generator seeded by the case's name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wildmatte.data.guidance import noisy_guidance, paper_guidance
from wildmatte.data.imageio import IMAGE_SUFFIXES, read_alpha, read_rgb
from wildmatte.errors import InputError

LAYOUTS = ("cwild", "aim", "pairs")
GUIDANCE = ("paper", "noisy")
_FOLDERS = {"aim": ("original", "mask"), "pairs": ("images", "alphas")}


@dataclass
class Case:
    name: str
    image: Path
    alpha: Path
    role: str = "target"
    guidance: dict[str, Path] = field(default_factory=dict)  # mode → file; empty: from GT
    others: tuple[Path, ...] = ()  # the other objects' alphas (SAD_OCC)
    categories: tuple[str, ...] = ()  # e.g. ("fine", "occluded"); reported per category


@dataclass
class Inputs:
    image: np.ndarray
    guidance: np.ndarray
    gt: np.ndarray
    others: list[np.ndarray]


def detect_layout(root: Path) -> str:
    if not root.is_dir():
        raise InputError(root, "not a folder")
    if (root / "manifest.json").is_file():
        return "cwild"
    for layout, (images, alphas) in _FOLDERS.items():
        if (root / images).is_dir() and (root / alphas).is_dir():
            return layout
    raise InputError(
        root, "not a benchmark: expected manifest.json, original/+mask/ or images/+alphas/"
    )


def cwild_cases(root: Path) -> tuple[list[Case], list[str]]:
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        cases = [
            Case(
                name=t["name"],
                image=root / s["image"],
                alpha=root / t["alpha"],
                role=t["role"],
                guidance={mode: root / p for mode, p in t["guidance"].items()},
                others=tuple(root / p for p in t["others"]),
                categories=tuple(t.get("categories", ())),
            )
            for s in manifest["samples"]
            for t in s["targets"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(
            root / "manifest.json", f"not a Composition-Wild manifest ({err})"
        ) from None
    return cases, []


def _by_stem(folder: Path) -> tuple[dict[str, Path], list[str]]:
    if not folder.is_dir():
        raise InputError(folder, "not a folder")
    files, problems = {}, []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.stem in files:
            problems.append(f"{path}: another file has the stem {path.stem!r}")
        files.setdefault(path.stem, path)
    return files, problems


def matched_cases(root: Path, layout: str) -> tuple[list[Case], list[str]]:
    """Cases of a two-folder layout; a photo without a matte (or vice versa) is a problem."""
    images, problems = _by_stem(root / _FOLDERS[layout][0])
    alphas, more = _by_stem(root / _FOLDERS[layout][1])
    problems += more
    problems += [f"{images[s]}: no alpha matte with this stem" for s in images if s not in alphas]
    problems += [f"{alphas[s]}: no image with this stem" for s in alphas if s not in images]
    cases = [Case(s, images[s], alphas[s]) for s in sorted(images) if s in alphas]
    if not cases and not problems:
        raise InputError(root, "no image/alpha pairs found")
    return cases, problems


def load_cases(root: Path, layout: str | None = None) -> tuple[list[Case], list[str]]:
    """(cases, problems): problems are one-line messages about files that cannot be cases."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "not a folder")
    layout = layout or detect_layout(root)
    if layout == "cwild":
        return cwild_cases(root)
    if layout in _FOLDERS:
        return matched_cases(root, layout)
    raise ValueError(f"unknown layout {layout!r}: expected one of {', '.join(LAYOUTS)}")


def _name_seed(name: str) -> int:
    return int.from_bytes(hashlib.md5(name.encode("utf-8")).digest()[:8], "big")


def made_guidance(gt: np.ndarray, mode: str, name: str, kernel: int = 25) -> np.ndarray:
    """Guidance from the ground truth, reproducible per case name."""
    if mode == "paper":
        return paper_guidance(gt, kernel)
    if mode == "noisy":
        return noisy_guidance(gt, np.random.default_rng(_name_seed(name)))
    raise ValueError(f"unknown guidance {mode!r}: expected one of {', '.join(GUIDANCE)}")


def _same_shape(array: np.ndarray, shape: tuple, path: Path, what: str) -> np.ndarray:
    if array.shape[:2] != shape:
        raise InputError(
            path, f"{what} is {array.shape[1]}×{array.shape[0]}, image {shape[1]}×{shape[0]}"
        )
    return array


def read_truth(case: Case, shape: tuple | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """(gt alpha, the other objects' alphas); InputError names the bad file."""
    gt = read_alpha(case.alpha)
    shape = shape or gt.shape
    _same_shape(gt, shape, case.alpha, "alpha")
    others = [_same_shape(read_alpha(p), shape, p, "alpha") for p in case.others]
    return gt, others


def read_guidance(case: Case, mode: str, gt: np.ndarray, kernel: int = 25) -> np.ndarray:
    if mode in case.guidance:
        path = case.guidance[mode]
        return _same_shape((read_alpha(path) > 0.5).astype(np.float32), gt.shape, path, "guidance")
    return made_guidance(gt, mode, case.name, kernel)


def read_inputs(case: Case, mode: str, kernel: int = 25) -> Inputs:
    image = read_rgb(case.image)
    gt, others = read_truth(case, image.shape[:2])
    return Inputs(image, read_guidance(case, mode, gt, kernel), gt, others)
