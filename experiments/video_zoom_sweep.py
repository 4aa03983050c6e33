"""How large should a small object be matted? (issue 25; the video clips' tuning seeds only)

Mattes every 6th frame of the tuning clips (`benchmarks/video_clips.py --seed 1, 2`, 320×240)
with the true mask as guidance (dilated as propagated guidance is), so that it measures the
model alone, for each `ZoomOptions.min_object` and `margin`, and prints the mean IoU of
alpha ≥ ½ and seconds a frame. The choice in `wildmatte/inference/zoom.py` was made here.

    python experiments/video_zoom_sweep.py [--seeds 1 2] [--sizes 0 192 256 320 384 448]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from video_clips import scenes  # noqa: E402

from wildmatte.applications.propagate import guidance_kernel  # noqa: E402
from wildmatte.inference.engines import default_engine  # noqa: E402
from wildmatte.inference.zoom import ZoomEngine, ZoomOptions  # noqa: E402


def samples(seeds: list[int], frames: int = 64, every: int = 6):
    """(frame, guidance, true alpha) of every `every`-th frame where the target is in view."""
    for seed in seeds:
        for scene in scenes(seed):
            for i in range(0, frames, every):
                frame, true = scene.render(i / (frames - 1))
                if (true >= 0.5).sum() < 50:
                    continue
                k = guidance_kernel(true.shape)
                guide = cv2.dilate((true >= 0.5).astype(np.uint8), np.ones((k, k), np.uint8))
                yield np.clip(frame, 0, 1).astype(np.float32), guide.astype(np.float32), true


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--sizes", type=int, nargs="+", default=[0, 192, 256, 320, 384, 448])
    p.add_argument("--margins", type=float, nargs="+", default=[0.25, 0.5])
    args = p.parse_args()
    base = default_engine(hires=True)
    data = list(samples(args.seeds))
    print(f"seeds {args.seeds}: {len(data)} frames")
    print("| min_object | margin | mean IoU | s/frame |\n| ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        for margin in args.margins if size else [0.0]:
            engine = ZoomEngine(base, ZoomOptions(min_object=size, margin=margin)) if size else base
            start, ious = time.perf_counter(), []
            for frame, guide, true in data:
                a, b = engine(frame, guide) >= 0.5, true >= 0.5
                ious.append((a & b).sum() / max(1, (a | b).sum()))
            wall = (time.perf_counter() - start) / len(data)
            label = size or "off"
            print(f"| {label} | {margin} | {np.mean(ious):.3f} | {wall:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
