"""Seconds a frame of `wildmatte video` at 768×576 (0.44 MP): propagation and matting, timed
apart, in-process, for each way of carrying the mask.

Usage: python benchmarks/video_speed.py [--frames 12] [--seed 25] [--propagate flow affinity both]

The clip is the benchmark's `articulated` clip (benchmarks/video_clips.py, a cutout walking
with its legs swinging), drawn at 320×240 and scaled up to 768×576; the object is then about
300 px tall. The first frame (no propagation) is not counted; the lost-object watch is timed
with the matting. Prints the load average: on a
shared machine the figures measure the load as much as the method.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import video_clips  # noqa: E402

from wildmatte.applications.lost import LostWatch  # noqa: E402
from wildmatte.applications.video import matte, matte_carried, start  # noqa: E402
from wildmatte.inference.engines import default_engine  # noqa: E402

SIZE = (768, 576)


def clip(seed: int, frames: int) -> tuple[list[np.ndarray], np.ndarray]:
    scene = next(s for s in video_clips.scenes(seed) if s.name == "articulated")
    rendered = [scene.render(i / 63) for i in range(frames)]
    big = [cv2.resize(f, SIZE, interpolation=cv2.INTER_CUBIC) for f, _ in rendered]
    first = (cv2.resize(rendered[0][1], SIZE) >= 0.5).astype(np.float32)
    return [np.clip(f, 0, 1).astype(np.float32) for f in big], first


def propagator(name: str):
    if name == "flow":
        from wildmatte.applications.propagate import FlowPropagator

        return FlowPropagator()
    from wildmatte.applications.affinity import AffinityPropagator, JointPropagator
    from wildmatte.applications.propagate import FlowPropagator

    return AffinityPropagator() if name == "affinity" else JointPropagator(FlowPropagator())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--seed", type=int, default=video_clips.PUBLISHED)
    p.add_argument("--propagate", nargs="+", default=["flow", "affinity", "both"])
    args = p.parse_args()
    frames, first = clip(args.seed, args.frames)
    engine = default_engine(None, None, hires=True, zoom=True)
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cpus; engine {engine.name}")
    print("| propagation | propagate s/frame | matte s/frame | total s/frame |")
    print("| --- | ---: | ---: | ---: |")
    for name in args.propagate:
        prop = propagator(name)
        start(prop, first)
        alpha, guide, times = matte(engine, frames[0], first), None, []
        watch = LostWatch()
        watch.start(alpha)
        for i, (prev, frame) in enumerate(zip(frames, frames[1:]), start=1):
            t0 = time.perf_counter()
            last, guide = guide, prop.next_mask(prev, frame, alpha)
            t1 = time.perf_counter()
            new, fell = matte_carried(engine, frame, guide, alpha, prev_guide=last)
            watch.lost(i, prev, frame, alpha, new, fell)  # the tool's watch, timed with matting
            alpha = new
            times.append((t1 - t0, time.perf_counter() - t1))
        a, m = np.mean(times, axis=0)
        print(f"| {name} | {a:.2f} | {m:.2f} | {a + m:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
