"""Training and validation samples composited on the fly from foregrounds and backgrounds.

Each layer is warped once, straight into the crop, and composited channels-first (3×S×S images,
1×S×S alphas), which is both faster and what the network takes.
Every sample satisfies image == alpha·fg + (1 − alpha)·bg, whatever the mode:
- "instance-wise" (the paper): two layers (Eq. 2); the target is one of them, fg its colour and
  bg the effective background behind it (the real background and the other layer).
- "merge" (MGMatting): two layers merged into one target, bg the real background.
- "single": one layer over the background (Eq. 1).
"""

import ctypes
import os

import numpy as np
import torch
from torch.utils.data import Dataset

from wildmatte.data import augment, opacity
from wildmatte.data.backgrounds import open_backgrounds, random_crop_u8
from wildmatte.data.cache import LRUCache
from wildmatte.data.composite import (
    composite,
    effective_background,
    layer,
    merge_alphas,
    merge_foregrounds,
)
from wildmatte.data.foregrounds import open_foregrounds
from wildmatte.data.guidance import cutmask, noisy_guidance, paper_guidance, simulate_guidance
from wildmatte.data.procedural import ProceduralForegrounds

MODES = ("instance-wise", "merge", "single")
GUIDANCE = ("simulate", "paper", "noisy")
CUTMASK_PROB = 0.25
# Object size (long side) relative to the crop, and the largest upscaling of a source file
# (the default; data.max_upscale): an enlarged cutout loses the fine texture of real photos.
OBJECT_SCALE = (0.5, 2.0)
MAX_UPSCALE = 2.5
# A target hidden this much by the layer in front of it is moved to the front.
MIN_VISIBLE = 0.3


# glibc malloc: keep freed memory up to this much for reuse, and serve blocks below this size
# from the heap instead of fresh mmap()s (see _setup_process).
_MALLOC_TRIM_THRESHOLD = 128 * 2**20
_MALLOC_MMAP_THRESHOLD = 32 * 2**20
_setup_pid = None


def _setup_process() -> None:
    """Once per process, before the first sample: make the allocator and OpenCV fit the work.

    A sample allocates and frees tens of MB of temporaries. By default glibc hands most of it
    back to the system and the next sample page-faults it in again, which costs about as much
    as the arithmetic on it: let glibc keep it (a no-op where mallopt is unavailable).
    OpenCV's thread count is left alone: cv2.setNumThreads() in a forked DataLoader worker
    deadlocks once the parent has used OpenCV's thread pool.
    """
    global _setup_pid
    if _setup_pid == os.getpid():
        return
    _setup_pid = os.getpid()
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return
    mallopt(-1, _MALLOC_TRIM_THRESHOLD)  # M_TRIM_THRESHOLD
    mallopt(-3, _MALLOC_MMAP_THRESHOLD)  # M_MMAP_THRESHOLD


class _Prepared:
    """A decoded foreground ready for sampling: clean colours, bounding box, pixel samples."""

    def __init__(self, fg: np.ndarray, alpha: np.ndarray, name: str, clean: bool = False) -> None:
        self.rgba = augment.pack_rgba(fg if clean else augment.extend_colours(fg, alpha), alpha)
        self.name = name
        self.transition = augment.transition_points(alpha)
        self.points = augment.object_points(alpha)
        self.centre = self.points.mean(axis=0)
        extent = self.points.max(axis=0) - self.points.min(axis=0)
        self.extent = float(max(extent.max(), 1.0))
        self.nbytes = self.rgba.nbytes + self.transition.nbytes + self.points.nbytes


class CompositeDataset(Dataset):
    """Random composites; item i depends only on (seed, i), in any DataLoader worker.

    fg_sets: foreground sets (items (fg, alpha)); bg_set: an image set (backgrounds.ImageFolder);
    procedural: an optional ProceduralForegrounds, used for each layer with procedural_ratio.
    guidance: "simulate" (training), "paper" or "noisy" (validation). With "simulate",
    noisy_ratio of the samples get segmentation-like guidance (guidance.noisy_guidance) instead.
    """

    def __init__(
        self,
        fg_sets: list,
        bg_set,
        crop_size: int = 512,
        mode: str = "instance-wise",
        cutmask: bool = False,
        procedural=None,
        procedural_ratio: float = 0.0,
        seed: int = 0,
        length: int = 10000,
        guidance: str = "simulate",
        cache_bytes: int = 256 * 2**20,
        guidance_kernel: tuple[int, int] | None = None,
        noisy_ratio: float = 0.0,
        partial_ratio: float = 0.0,
        sharpness_match: float = 0.0,
        max_upscale: float = MAX_UPSCALE,
        camouflage: float = 0.0,
        attach: float = 0.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
        if guidance not in GUIDANCE:
            raise ValueError(
                f"unknown guidance {guidance!r}: expected one of {', '.join(GUIDANCE)}"
            )
        self.fg_sets = [s for s in fg_sets if len(s)]
        if not self.fg_sets and procedural is None:
            raise ValueError("no foregrounds: every foreground set is empty")
        if len(bg_set) == 0:
            raise ValueError("no backgrounds: the background set is empty")
        self.bg_set = bg_set
        self.crop_size = crop_size
        self.mode = mode
        self.cutmask = cutmask
        self.procedural = procedural
        self.procedural_ratio = procedural_ratio if procedural is not None else 0.0
        if not self.fg_sets:
            self.procedural_ratio = 1.0
        self.seed = seed
        self.length = length
        self.guidance = guidance
        self.guidance_kernel = tuple(guidance_kernel) if guidance_kernel else None
        self.noisy_ratio = noisy_ratio
        self.partial_ratio = partial_ratio
        self.sharpness_match = sharpness_match
        self.max_upscale = max_upscale
        self.camouflage = camouflage
        self.attach = attach
        self._sizes = np.cumsum([len(s) for s in self.fg_sets])
        self._cache = LRUCache(cache_bytes)

    def __len__(self) -> int:
        return self.length

    # -- sources ------------------------------------------------------------------------------

    def _foreground(self, rng: np.random.Generator) -> _Prepared:
        if rng.random() < self.procedural_ratio:
            j = int(rng.integers(len(self.procedural)))
            fg, alpha = self.procedural[j]  # textured everywhere: no colours to fill in
            return _Prepared(fg, alpha, name=self.procedural.names[j], clean=True)
        k = int(rng.integers(self._sizes[-1]))
        s = int(np.searchsorted(self._sizes, k, side="right"))
        j = k - (int(self._sizes[s - 1]) if s else 0)
        fg_set = self.fg_sets[s]
        return self._cache.get((s, j), lambda: _Prepared(*fg_set[j], name=fg_set.names[j]))

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        j = int(rng.integers(len(self.bg_set)))
        if hasattr(self.bg_set, "read_u8"):
            image = self.bg_set.read_u8(j, min_side=self.crop_size)
        else:
            image = np.clip(np.asarray(self.bg_set[j]) * 255, 0, 255).astype(np.uint8)
        # Channels first in uint8 (cheap), so that the float image is C-contiguous: a strided
        # background slows every later operation on it.
        patch = np.ascontiguousarray(random_crop_u8(image, self.crop_size, rng).transpose(2, 0, 1))
        return np.multiply(patch, np.float32(1 / 255), dtype=np.float32)

    # -- geometry -----------------------------------------------------------------------------

    def _place(
        self, src: _Prepared, rng: np.random.Generator, anchor: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Warp a foreground straight into the crop: random affine, scale and colour.

        Without an anchor a random transition pixel lands near the crop centre; with one a
        random object pixel lands near the anchor, so that the two layers overlap.
        Returns (fg, alpha, a random object pixel inside the crop to anchor another layer).
        """
        size = self.crop_size
        target = size * np.exp(rng.uniform(*np.log(OBJECT_SCALE)))
        scale = min(target / src.extent, self.max_upscale)
        m = augment.scaling(scale) @ augment.random_affine(rng, centre=tuple(src.centre))
        if anchor is None:
            point = src.transition[rng.integers(len(src.transition))]
            goal = np.full(2, size / 2) + rng.uniform(-0.125, 0.125, 2) * size
        else:
            point = src.points[rng.integers(len(src.points))]
            goal = anchor + rng.uniform(-0.25, 0.25, 2) * size
        m = augment.translation(*(goal - augment.apply_point(m, point))) @ m
        colour = augment.random_color_matrix(rng).astype(np.float32)
        planes = augment.warp_planes(src.rgba, m, (size, size), colour=colour)
        fg, alpha = planes[:3], planes[3:]
        return fg, alpha, self._anchor(src, m, rng)

    def _anchor(self, src: _Prepared, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        placed = src.points @ m[:2, :2].T + m[:2, 2]
        inside = placed[((placed >= 0) & (placed < self.crop_size)).all(axis=1)]
        if not len(inside):
            return np.full(2, self.crop_size / 2)
        return inside[rng.integers(len(inside))]

    # -- samples ------------------------------------------------------------------------------

    def sample(self, i: int) -> dict:
        """Item i as float32 numpy arrays (3×S×S images, 1×S×S alphas) plus the layer names."""
        _setup_process()
        rng = np.random.default_rng([self.seed, i])
        count = 1 if self.mode == "single" else 2
        sources = [self._foreground(rng) for _ in range(count)]
        fg, alpha, anchor = self._place(sources[0], rng, anchor=None)
        fgs, alphas = [fg], [alpha]
        if count == 2:
            fg2, alpha2, _ = self._place(sources[1], rng, anchor=anchor)
            fgs.append(fg2)
            alphas.append(alpha2)
        bg = self._background(rng)
        # Drawn only when enabled, so that configs without it keep their samples exactly.
        partial = False
        if self.partial_ratio > 0 and rng.random() < self.partial_ratio:
            fgs[0], alphas[0] = opacity.make_partial(fgs[0], alphas[0], rng)
            partial = True
        # Drawn only when enabled, like partial_ratio; never on a see-through target.
        if self.camouflage > 0 and rng.random() < self.camouflage and not partial:
            fgs[0] = opacity.camouflage(fgs[0], alphas[0], bg, rng)
        if self.attach > 0 and rng.random() < self.attach and not partial:
            for _ in range(int(rng.integers(1, 4))):
                other = fgs[-1] if rng.random() < 0.5 else bg
                fgs[0] = opacity.attachment(fgs[0], alphas[0], other, rng)
        if self.sharpness_match > 0:  # drawn only when enabled, like partial_ratio
            fgs, bg = augment.match_sharpness(fgs, bg, rng, self.sharpness_match)
        fg, alpha = fgs[0], alphas[0]  # "single" mode composites these
        names = [s.name for s in sources]

        if self.mode == "single":
            out = {"image": composite(fg, alpha, bg), "alpha": alpha, "fg": fg, "bg": bg}
        elif self.mode == "merge":
            image, bars = layer(fgs, alphas, bg)
            merged = merge_alphas(alphas)
            out = {"image": image, "alpha": merged, "fg": merge_foregrounds(fgs, bars), "bg": bg}
        else:
            out, names = self._instance(fgs, alphas, bg, names, rng)
        # A user's mask covers a see-through target even where its alpha is below one half.
        source = opacity.coverage(out["alpha"]) if partial else out["alpha"]
        out["guidance"] = self._guidance(source, rng)
        out["names"] = names + (["partial"] if partial else [])
        return out

    def _instance(self, fgs, alphas, bg, names, rng):
        """Layer the two foregrounds in random order; the target is layer 0 (the crop's anchor)."""
        order = [0, 1] if rng.random() < 0.5 else [1, 0]
        image, bars = layer([fgs[k] for k in order], [alphas[k] for k in order], bg)
        t = order.index(0)
        if bars[t].sum() < MIN_VISIBLE * alphas[0].sum():  # hidden target: bring it to the front
            order = [0, 1]
            image, bars = layer([fgs[0], fgs[1]], [alphas[0], alphas[1]], bg)
            t = 0
        alpha, fg = bars[t], fgs[0]
        out = {
            "image": image,
            "alpha": alpha,
            "fg": fg,
            "bg": effective_background(image, fg, alpha),
        }
        return out, [names[k] for k in order] + [f"target={t}"]

    def _guidance(self, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        alpha = alpha[0]
        if self.guidance == "paper":
            mask = paper_guidance(alpha)
        elif self.guidance == "noisy":
            mask = noisy_guidance(alpha, rng)
        else:
            mask = simulate_guidance(alpha, rng, self.crop_size, self.guidance_kernel)
            # Drawn after the simulated mask (and not at ratio 0) so that the samples it does
            # not replace stay exactly those of a config without it.
            if self.noisy_ratio > 0 and rng.random() < self.noisy_ratio:
                mask = noisy_guidance(alpha, rng)
        if self.cutmask and rng.random() < CUTMASK_PROB:
            mask = cutmask(mask, rng)
        return mask[None]

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        return to_tensors(self.sample(i))


def to_tensors(sample: dict) -> dict:
    """Torch float32 tensors for the arrays of a sample (names are dropped)."""
    keys = ("image", "guidance", "alpha", "fg", "bg")
    return {k: torch.from_numpy(np.ascontiguousarray(sample[k], dtype=np.float32)) for k in keys}


def build_train_dataset(data_cfg: dict, seed: int = 0) -> CompositeDataset:
    """The training set described by a config's `data` section (train splits only)."""
    fg_sets = [open_foregrounds(spec, "train") for spec in data_cfg["fg"]]
    bg_set = open_backgrounds(data_cfg["bg"], "train")
    crop = int(data_cfg.get("crop_size", 512))
    ratio = float(data_cfg.get("procedural_ratio", 0.0))
    kinds = data_cfg.get("procedural_kinds")
    # Drawn larger than the crop, procedural objects are shrunk into it and keep their fine
    # texture; at the crop's size they are mostly enlarged and smoothed.
    side = int(data_cfg.get("procedural_size", crop))
    procedural = ProceduralForegrounds(bg_set, side, seed, kinds=kinds) if ratio > 0 else None
    return CompositeDataset(
        fg_sets,
        bg_set,
        crop_size=crop,
        mode=data_cfg.get("mode", "instance-wise"),
        cutmask=bool(data_cfg.get("cutmask", False)),
        procedural=procedural,
        procedural_ratio=ratio,
        seed=seed,
        length=int(data_cfg.get("length", 10000)),
        guidance_kernel=data_cfg.get("guidance_kernel"),
        noisy_ratio=float(data_cfg.get("noisy_guidance_ratio", 0.0)),
        partial_ratio=float(data_cfg.get("partial_ratio", 0.0)),
        sharpness_match=float(data_cfg.get("sharpness_match", 0.0)),
        max_upscale=float(data_cfg.get("max_upscale", MAX_UPSCALE)),
        camouflage=float(data_cfg.get("camouflage", 0.0)),
        attach=float(data_cfg.get("attach", 0.0)),
    )


def build_val_set(data_cfg: dict) -> list[dict]:
    """A fixed validation set from the val splits only: two layered foregrounds per sample.

    Items have the training keys as tensors plus `name`; guidance is "paper" or "noisy".
    """
    val = data_cfg.get("val", {})
    guidance = val.get("guidance", "paper")
    if guidance not in ("paper", "noisy"):
        raise ValueError(f"unknown validation guidance {guidance!r}: expected 'paper' or 'noisy'")
    dataset = CompositeDataset(
        [open_foregrounds(spec, "val") for spec in data_cfg["fg"]],
        open_backgrounds(data_cfg["bg"], "val"),
        crop_size=int(val.get("size", data_cfg.get("crop_size", 512))),
        mode="instance-wise",
        seed=int(val.get("seed", 1234)),
        length=int(val.get("n", 48)),
        guidance=guidance,
    )
    items = []
    for i in range(len(dataset)):
        sample = dataset.sample(i)
        item = to_tensors(sample)
        item["name"] = f"val{i:03d}:" + "+".join(sample["names"])
        items.append(item)
    return items
