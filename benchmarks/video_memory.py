"""Peak memory of `wildmatte video` against clip length: streaming means it must not grow.

Usage: python benchmarks/video_memory.py [--frames 100 1000] [--size 720x1280]
       [--engine guidance] [--flow fast] [--work /tmp/wildmatte-video-bench]

For each length, writes a synthetic clip (a textured disc crossing a textured background,
mp4v) and its first-frame mask, then runs `python -m wildmatte video` in a child process with
propagation from that mask, and prints the child's peak RSS (getrusage of the children:
ru_maxrss), its wall time and frames/s. The `guidance` engine (the mask itself, no network)
keeps 1000 frames of 720p quick on a shared CPU; the reading, optical flow, writing and
bookkeeping are the same as with the model, whose weights and activations add a constant.
A final run imports wildmatte and does nothing, for the baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def make_clip(path: Path, frames: int, h: int, w: int) -> Path:
    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), np.uint8), (0, 0), 3)
    sprite = cv2.GaussianBlur(rng.integers(0, 256, (h // 3, h // 3, 3), np.uint8), (0, 0), 2)
    disc = np.zeros(sprite.shape[:2], np.float32)
    r = sprite.shape[0] // 2
    cv2.circle(disc, (r, r), r - 2, 1.0, -1)
    disc = cv2.GaussianBlur(disc, (0, 0), 1.5)[..., None]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
    y = h // 3
    for t in range(frames):
        x = int((w - 2 * r) * (0.5 + 0.5 * np.sin(t / 40)))  # back and forth, 0-16 px/frame
        frame = bg.copy()
        patch = frame[y : y + 2 * r, x : x + 2 * r].astype(np.float32)
        frame[y : y + 2 * r, x : x + 2 * r] = np.rint(disc * sprite + (1 - disc) * patch)
        if t == 0:
            mask = np.zeros((h, w), np.uint8)
            mask[y : y + 2 * r, x : x + 2 * r] = (disc[..., 0] >= 0.5) * 255
            cv2.imwrite(str(path.with_suffix(".mask.png")), mask)
        writer.write(frame)
    writer.release()
    return path


def child(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS of this one child in MiB, wall seconds); each runs in its own python."""
    runner = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        *cmd,
    ]
    start = time.perf_counter()
    out = subprocess.run(runner, check=True, capture_output=True, text=True, env=_env()).stdout
    return int(out.split()[-1]) / 1024, time.perf_counter() - start


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return env


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--size", default="720x1280", help="HxW")
    p.add_argument("--engine", default="guidance")
    p.add_argument("--flow", default="fast", choices=["fast", "medium"])
    p.add_argument("--work", type=Path, default=Path("/tmp/wildmatte-video-bench"))
    args = p.parse_args()
    h, w = map(int, args.size.split("x"))
    args.work.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    base, _ = child([py, "-c", "import wildmatte.interfaces.cli, wildmatte.applications.video"])
    print(f"load average {os.getloadavg()[0]:.1f}; {w}×{h}; engine {args.engine}; flow {args.flow}")
    print(f"baseline (import only): peak RSS {base:.0f} MiB")
    for n in args.frames:
        clip = make_clip(args.work / f"clip{n}.mp4", n, h, w)
        out = args.work / f"out{n}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [
            py,
            "-m",
            "wildmatte",
            "video",
            str(clip),
            "--mask",
            str(clip.with_suffix(".mask.png")),
            "--out",
            str(out),
            "--engine",
            args.engine,
            "--flow",
            args.flow,
        ]
        peak, wall = child(cmd)
        written = len(list((out / "alpha").glob("*.png")))
        print(
            f"{n:5d} frames: peak RSS {peak:.0f} MiB, {wall:.0f} s, {written / wall:.1f} frames/s "
            f"({written} alphas written)"
        )
        shutil.rmtree(out, ignore_errors=True)
        clip.unlink()


if __name__ == "__main__":
    main()
