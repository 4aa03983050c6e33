"""Matting engines behind one interface: `engine(image, guidance) -> alpha`.

image: H×W×3 float32 RGB in [0, 1]; guidance: H×W float32 binary mask {0, 1};
alpha: H×W float32 in [0, 1]. Engines never read files; see wildmatte.inference.io for that.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from wildmatte import validate
from wildmatte.errors import InputError
from wildmatte.inference.band_solve import BandOptions, BandSolveEngine
from wildmatte.inference.hires import HiresEngine, HiresOptions
from wildmatte.inference.zoom import ZoomEngine, ZoomOptions
from wildmatte.model import CONFIGS, PRN, get_config, load_model

# Classic engines: pymatting's solvers on the same trimap (closed-form, KNN, large-kernel).
CLASSIC_METHODS = {"classic": "cf", "classic-knn": "knn", "classic-lkm": "lkm"}
ENGINES = ("prn", "onnx", *CLASSIC_METHODS, "guidance")
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "default.safetensors"


class Engine(Protocol):
    name: str

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray: ...


def pick_device(device: str | None = None) -> torch.device:
    """The requested device (one that exists here), else CUDA when present, else CPU."""
    if device:
        return validate.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pad_to_multiple(x: torch.Tensor, multiple: int = 32) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad N×C×H×W on the bottom/right to multiples of `multiple` (reflect where it can)."""
    h, w = x.shape[2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    # Reflection needs the pad to be smaller than the side; tiny images fall back to replicate.
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


class PRNEngine:
    """The learned model; the fused alpha of the progressive refinement heads."""

    name = "prn"

    def __init__(self, model: PRN, device: torch.device, dtype: torch.dtype = torch.float32):
        self.model = model.to(device).eval()
        self.device = device
        self.dtype = dtype

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        return self.batch(image, guidance[None])[0]

    @torch.inference_mode()
    def batch(self, image: np.ndarray, guidances: np.ndarray) -> np.ndarray:
        """N alphas (N×H×W) of one image with N guidance masks (N×H×W), in one forward pass."""
        img = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
        gd = torch.from_numpy(np.ascontiguousarray(guidances, dtype=np.float32))[:, None]
        x = torch.cat([img.expand(len(gd), -1, -1, -1), gd], dim=1).float().to(self.device)
        x, (h, w) = pad_to_multiple(x)
        with torch.autocast(self.device.type, self.dtype, enabled=self.dtype != torch.float32):
            alpha = self.model(x[:, :3], x[:, 3:])["alpha"]
        return alpha[:, 0, :h, :w].float().clamp(0, 1).cpu().numpy()


@dataclass(frozen=True)
class Trimap:
    """How a trimap is made from a mask: sure foreground is the mask eroded by
    max(erode_px, erode_frac · short side of its box); unknown is the rest of the mask plus a band
    of max(dilate_px, dilate_frac · short side) outside it; everything else is sure background."""

    erode_px: int = 15
    erode_frac: float = 0.05
    dilate_px: int = 0
    dilate_frac: float = 0.0

    def sizes(self, short_side: int) -> tuple[int, int]:
        erode = max(self.erode_px, round(self.erode_frac * short_side))
        return erode, max(self.dilate_px, round(self.dilate_frac * short_side))


# The classic peers' trimaps, tuned per kind of guidance on the independent benchmark's tune split
# (experiments/tune_classic.py, experiments/results/tune_classic.json: closed-form SAD on 30
# targets). A paper-style mask is the object dilated by 12-17 px, so sure foreground starts 45 px
# in (SAD 10.9; the old 15 px gave 19.0). A segmenter-like mask errs both ways, so a thin sure
# core and an unknown band outside the mask work best (10.5; the old trimap gave 13.9).
TRIMAPS = {
    "paper": Trimap(erode_px=45, erode_frac=0.0),
    "noisy": Trimap(erode_px=8, erode_frac=0.0, dilate_px=12),
}


def _short_side(mask: np.ndarray) -> int:
    ys, xs = np.nonzero(mask)
    return int(min(np.ptp(ys), np.ptp(xs)) + 1) if len(ys) else 0


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def trimap_from_mask(
    mask: np.ndarray, erode: int | None = None, spec: Trimap | None = None
) -> np.ndarray:
    """Trimap (0 / 0.5 / 1) from a binary mask by `spec` (default TRIMAPS["paper"]); `erode`
    fixes the erosion in pixels (and no band outside). An all-ones mask has no known
    background."""
    mask = (mask > 0.5).astype(np.uint8)
    if erode is not None:
        erode_px, dilate_px = erode, 0
    else:
        erode_px, dilate_px = (spec or TRIMAPS["paper"]).sizes(_short_side(mask))
    sure = cv2.erode(mask, _disc(erode_px), borderType=cv2.BORDER_REPLICATE)
    unknown = cv2.dilate(mask, _disc(dilate_px)) if dilate_px > 0 else mask
    trimap = np.where(unknown > 0, 0.5, 0.0).astype(np.float64)
    trimap[sure > 0] = 1.0
    return trimap


class ClassicEngine:
    """Closed-form matting (Levin et al.; `method="cf"`), KNN matting (Chen et al.; "knn") or
    large-kernel matting (He et al.; "lkm"), via pymatting, on a trimap made from the mask.

    The peer baselines: no weights, no training. `trimap` names a tuned preset ("paper" for
    tight masks, "noisy" for segmenter-like ones) or is a Trimap. When erosion leaves no sure
    foreground, the largest-distance pixels of the mask are used instead; a mask with no
    background outside it is returned as is, since there is nothing to separate it from.
    """

    def __init__(
        self, method: str = "cf", erode: int | None = None, trimap: str | Trimap = "paper"
    ) -> None:
        names = {m: n for n, m in CLASSIC_METHODS.items()}
        if method not in names:
            raise ValueError(f"unknown classic method {method!r}: expected one of {list(names)}")
        if isinstance(trimap, str) and trimap not in TRIMAPS:
            raise ValueError(f"unknown trimap preset {trimap!r}: expected one of {list(TRIMAPS)}")
        self.name, self.method, self.erode = names[method], method, erode
        self.trimap = TRIMAPS[trimap] if isinstance(trimap, str) else trimap

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        from wildmatte.inference.pymatting_import import load_pymatting

        pymatting = load_pymatting()
        mask = (guidance > 0.5).astype(np.uint8)
        if not mask.any() or mask.all():
            return mask.astype(np.float32)
        trimap = trimap_from_mask(mask, self.erode, self.trimap)
        if not (trimap == 1).any():
            dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
            trimap[dist >= dist.max()] = 1.0
        if not (trimap == 0.5).any():
            return (trimap == 1).astype(np.float32)
        estimate = getattr(pymatting, f"estimate_alpha_{self.method}")
        alpha = estimate(image.astype(np.float64), trimap)
        return np.clip(alpha, 0, 1).astype(np.float32)


class GuidanceEngine:
    """The guidance mask itself: the floor every engine must beat."""

    name = "guidance"

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        return (guidance > 0.5).astype(np.float32)


def load_prn(
    weights: str | os.PathLike | None,
    device: torch.device,
    init: str | None = None,
    model: str = "prn-light",
) -> PRN:
    """Weights from a file (`.safetensors` + `.json`) or the bundled default (None).

    `init="random"` builds the untrained `model` config instead (tests and speed benchmarks
    only: its mattes are noise), and says so on stderr.
    """
    if init is not None:
        if init != "random":
            raise InputError("--init", f"unknown value {init!r}: the only one is 'random'")
        if weights is not None:
            raise InputError("--init", "random initialisation takes no --weights")
        if model not in CONFIGS:
            raise InputError("--model", f"unknown config {model!r}; known: {', '.join(CONFIGS)}")
        print(
            f"wildmatte: untrained {model} model (random weights, --init random)", file=sys.stderr
        )
        return PRN(get_config(model)).to(device).eval()
    if weights is None:
        if not DEFAULT_WEIGHTS.is_file():
            raise InputError(DEFAULT_WEIGHTS, "no bundled default weights; pass --weights")
        return load_model(DEFAULT_WEIGHTS, device)
    w = str(weights)
    if w in CONFIGS and not Path(w).exists():
        raise InputError(
            w,
            "is a model config name, not a weights file; an untrained model needs "
            f"--init random --model {w} (API: init='random', model='{w}')",
        )
    return load_model(w, device)


def default_engine_name(weights: str | os.PathLike | None = None, device: str | None = None) -> str:
    """The engine tried when none is named: onnxruntime on a CPU where it is installed (about 2×
    faster than torch there: docs/deploy.md), else prn; closed-form when there are no weights at
    all. default_engine() runs prn instead where the onnx graphs cannot be made."""
    if weights is None and not DEFAULT_WEIGHTS.is_file():
        return "classic"
    w = str(weights or "")
    if (
        pick_device(device).type == "cpu"
        and (not w or w.endswith((".safetensors", ".onnx")))
        and importlib.util.find_spec("onnxruntime") is not None
    ):
        return "onnx"
    return "prn"


def default_engine(
    weights: str | os.PathLike | None = None,
    device: str | None = None,
    hires: HiresOptions | bool = False,
    threads: int | None = None,
    zoom: ZoomOptions | bool = False,
    band_solve: BandOptions | bool = False,
) -> Engine:
    """The one default engine of predict, Matter.from_pretrained(), serve and video: the one
    default_engine_name() picks, or torch (prn) where the onnx graphs are neither cached nor
    can be made (no `onnx` package), saying so in one line once the weights have loaded."""
    name = default_engine_name(weights, device)
    if name == "classic":
        print("wildmatte: no trained weights bundled: using the classic engine", file=sys.stderr)
    extras = {"hires": hires, "zoom": zoom, "band_solve": band_solve}
    if name != "onnx":
        return get_engine(name, weights, device, **extras)
    from wildmatte.inference.onnx_engine import ExportUnavailable

    try:
        return get_engine("onnx", weights, device, threads=threads, **extras)
    except ExportUnavailable as err:
        engine = get_engine("prn", weights, device, **extras)
        print(f"wildmatte: {err.problem}: running torch instead", file=sys.stderr)
        return engine


def get_engine(
    name: str = "prn",
    weights: str | os.PathLike | None = None,
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
    hires: HiresOptions | bool = False,
    trimap: str = "paper",
    init: str | None = None,
    model: str = "prn-light",
    threads: int | None = None,
    zoom: ZoomOptions | bool = False,
    band_solve: BandOptions | bool = False,
) -> Engine:
    """An engine by name: `prn` (weights: a file, or None for the default; `init="random"`
    for an untrained `model`), `onnx` (onnxruntime; weights: `.onnx`, `.safetensors` or None,
    exported once to a cache), `classic` (closed-form), `classic-knn`, `classic-lkm` (with a
    trimap preset: "paper" for tight masks, "noisy" for segmenter-like ones), or `guidance`.

    hires: learned engines take images over `max_pixels` coarse to fine (True: the defaults).
    zoom: learned engines matte objects smaller than `min_object` on an upscaled crop (True:
    the defaults). band_solve: learned engines' alpha refined by closed-form inside their band
    of doubt (True: the defaults). threads: onnxruntime's threads per call (None: one per
    core)."""
    engine = _engine(name, weights, device, dtype, trimap, init, model, threads)
    if name not in ("prn", "onnx"):
        return engine
    if hires:
        engine = HiresEngine(engine, hires if isinstance(hires, HiresOptions) else None)
    if zoom:
        engine = ZoomEngine(engine, zoom if isinstance(zoom, ZoomOptions) else None)
    if band_solve:
        options = band_solve if isinstance(band_solve, BandOptions) else None
        engine = BandSolveEngine(engine, options)
    return engine


def _engine(
    name: str,
    weights,
    device: str | None,
    dtype: torch.dtype,
    trimap: str = "paper",
    init: str | None = None,
    model: str = "prn-light",
    threads: int | None = None,
) -> Engine:
    if name == "prn":
        dev = pick_device(device)
        return PRNEngine(load_prn(weights, dev, init, model), dev, dtype)
    if name == "onnx":
        from wildmatte.inference.onnx_engine import onnx_engine

        return onnx_engine(weights, DEFAULT_WEIGHTS, threads)
    if name in CLASSIC_METHODS:
        return ClassicEngine(CLASSIC_METHODS[name], trimap=trimap)
    if name == "guidance":
        return GuidanceEngine()
    raise ValueError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
