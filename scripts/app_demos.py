"""Realistic examples of `wildmatte video` and `wildmatte panoptic`, their figures and numbers.

Video: a 2.5 s clip (30 frames, 12 fps, 270×480) of a tricycle rolling across a meadow and in
front of a wheelie bin; only frame 0 has a mask. Panoptic: a balloon, a cello and a football
(in front of the cello) over a lake; every layer and the background are segments.
All cutouts are from the held-out categories (never in a training split). Sources:
tuxpaint-stamps and desktop backgrounds (GPL-2), see ../shared/data/SOURCES.md.

Run: PYTHONPATH=. .venv/bin/python scripts/app_demos.py [WORK_DIR]
Writes the inputs and outputs under WORK_DIR (default /tmp/wildmatte-demos), the figures
docs/video-strip.jpg, docs/panoptic.png and docs/panoptic-edit.jpg, and prints the metrics.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from wildmatte.applications.panoptic import panoptic_matte
from wildmatte.applications.propagate import guidance_kernel
from wildmatte.applications.video import matte
from wildmatte.data.composite import recalibrate
from wildmatte.data.guidance import paper_guidance
from wildmatte.data.imageio import read_alpha, read_rgb, read_rgba
from wildmatte.data.paths import data_root
from wildmatte.evaluation.metrics import sad
from wildmatte.evaluation.temporal import dtssd_per_frame, messddt
from wildmatte.inference.engines import get_engine
from wildmatte.interfaces.cli import main as cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
H, W = 270, 480
FRAMES, FPS = 30, 12


def place(name: str, height: int, x: int, y: int, shape=(H, W)) -> tuple[np.ndarray, np.ndarray]:
    """A cutout scaled to `height`, its top-left at (x, y) (may stick out of the frame)."""
    fg, alpha = read_rgba(data_root() / "fg-train" / name)
    s = height / fg.shape[0]
    fg = cv2.resize(fg, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    h, w = shape
    canvas_f, canvas_a = np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)
    ys, xs = (
        slice(max(y, 0), min(y + alpha.shape[0], h)),
        slice(max(x, 0), min(x + alpha.shape[1], w)),
    )
    src = (slice(ys.start - y, ys.stop - y), slice(xs.start - x, xs.stop - x))
    canvas_f[ys, xs], canvas_a[ys, xs] = fg[src], alpha[src]
    return canvas_f, canvas_a


def background(name: str, shape=(H, W)) -> np.ndarray:
    return cv2.resize(
        read_rgb(data_root() / "bg-train" / name), shape[::-1], interpolation=cv2.INTER_AREA
    )


def u8(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.rint(np.clip(rgb, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)


def build_clip(work: Path) -> np.ndarray:
    """Write clip.mp4 (and frames/), first_mask.png; return the ground-truth alphas."""
    bg = background("mate__GreenMeadow.jpg")
    f_bin, a_bin = place("household__wheelie_bin.png", 190, 250, 60)
    writer = cv2.VideoWriter(str(work / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    (work / "frames").mkdir(exist_ok=True)
    gts = []
    for t in range(FRAMES):
        f_tri, a_tri = place("vehicles__cycle__pink_tricycle.png", 170, -40 + 11 * t, 85)
        front, behind = recalibrate([a_tri, a_bin])
        frame = front[..., None] * f_tri + behind[..., None] * f_bin
        frame += (1 - front - behind)[..., None] * bg
        writer.write(u8(frame))
        cv2.imwrite(str(work / "frames" / f"{t:04d}.png"), u8(frame))
        gts.append(front)
    writer.release()
    cv2.imwrite(str(work / "first_mask.png"), (paper_guidance(gts[0], 11) * 255).astype(np.uint8))
    return np.stack(gts)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a >= 0.5, b >= 0.5
    return float((a & b).sum() / max((a | b).sum(), 1))


def video_demo(work: Path) -> None:
    gt = build_clip(work)
    out = work / "video"
    start = time.perf_counter()
    code = cli(
        [
            "video",
            str(work / "clip.mp4"),
            "--mask",
            str(work / "first_mask.png"),
            "--out",
            str(out),
            "--composite",
            str(out / "composite.mp4"),
            "--background",
            str(data_root() / "bg-train" / "mate__Dune.jpg"),
        ]
    )
    assert code == 0
    print(f"video: {FRAMES} frames {W}×{H} in {time.perf_counter() - start:.1f} s (with composite)")
    alphas = np.stack([read_alpha(out / "alpha" / f"{t:06d}.png") for t in range(FRAMES)])
    # The same frames with a mask per frame from the ground truth (what a VOS model would give).
    engine = get_engine("prn", device="cpu")
    k = guidance_kernel((H, W))
    frames = [read_rgb(work / "frames" / f"{t:04d}.png") for t in range(FRAMES)]
    per_frame = np.stack([matte(engine, f, paper_guidance(g, k)) for f, g in zip(frames, gt)])
    figures = {}
    for name, a in (("propagated", alphas), ("gt masks", per_frame)):
        row = {
            "SAD": [sad(x, g) for x, g in zip(a, gt)],
            "IoU": [iou(x, g) for x, g in zip(a, gt)],
            "dtSSD": [float(v) for v in dtssd_per_frame(a, gt)],
            "MESSDdt": messddt(a, gt),
        }
        figures[name] = row
        print(
            f"{name:>10}: SAD mean {np.mean(row['SAD']):.2f} max {max(row['SAD']):.2f}; "
            f"IoU mean {np.mean(row['IoU']):.3f} min {min(row['IoU']):.3f}; "
            f"dtSSD mean {np.mean(row['dtSSD']):.2f}; MESSDdt {row['MESSDdt']:.2f}"
        )
        print("   per-frame SAD " + " ".join(f"{v:.2f}" for v in row["SAD"]))
        print("   per-frame IoU " + " ".join(f"{v:.3f}" for v in row["IoU"]))
    (work / "video_metrics.json").write_text(json.dumps(figures, indent=1))
    strip(frames, alphas, out / "composite.mp4", DOCS / "video-strip.jpg")


def strip(frames, alphas, composite: Path, path: Path, picks=(0, 10, 20, 29)) -> None:
    """Rows: frames, alphas, composite frames; at half size."""
    cap = cv2.VideoCapture(str(composite))
    comp = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        comp.append(bgr)
    rows = [
        [u8(frames[t]) for t in picks],
        [
            cv2.cvtColor(np.rint(alphas[t] * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
            for t in picks
        ],
        [comp[t] for t in picks],
    ]
    grid = np.vstack(
        [
            np.hstack(
                [
                    cv2.copyMakeBorder(c, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255,) * 3)
                    for c in row
                ]
            )
            for row in rows
        ]
    )
    cv2.imwrite(str(path), cv2.resize(grid, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    print(f"wrote {path}")


def panoptic_demo(work: Path) -> None:
    shape = (300, 400)
    bg = background("plasma__BytheWater.jpg", shape)
    layers = [
        place("sports__soccer.png", 90, 200, 170, shape),  # front to back
        place("hobbies__music__string__cello.png", 250, 215, 30, shape),
        place("vehicles__flight__balloon360.png", 200, 30, 20, shape),
    ]
    visible = recalibrate([a for _, a in layers])
    image = (1 - sum(visible))[..., None] * bg
    for (f, _), v in zip(layers, visible):
        image += v[..., None] * f
    gt = [1 - sum(visible), *visible]  # background, football, cello, balloon
    exact = np.argmax(np.stack(gt), axis=0).astype(np.uint8)
    # A panoptic segmenter's labels are coarse: here the ground truth's at 1/8 resolution.
    small = [
        cv2.resize(g, (shape[1] // 8, shape[0] // 8), interpolation=cv2.INTER_AREA) for g in gt
    ]
    labels = np.argmax(np.stack(small), axis=0).astype(np.uint8)
    labels = cv2.resize(labels, shape[::-1], interpolation=cv2.INTER_NEAREST)
    engine = get_engine("prn", device="cpu")
    exact_soft = panoptic_matte(engine, image, exact).alphas
    cv2.imwrite(str(work / "scene.png"), u8(image))
    cv2.imwrite(str(work / "labels.png"), labels)
    out = work / "panoptic"
    start = time.perf_counter()
    assert (
        cli(
            [
                "panoptic",
                str(work / "scene.png"),
                "--segments",
                str(work / "labels.png"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    print(f"panoptic: 4 segments {shape[1]}×{shape[0]} in {time.perf_counter() - start:.1f} s")
    names = ["background", "football", "cello", "balloon"]
    soft = [read_alpha(out / f"{i}.png") for i in range(4)]
    for i, name in enumerate(names):
        print(
            f"  {name:>10}: coarse labels SAD soft {sad(soft[i], gt[i]):.2f}, hard "
            f"{sad((labels == i).astype(np.float32), gt[i]):.2f}; exact labels SAD soft "
            f"{sad(exact_soft[i], gt[i]):.2f}, hard {sad((exact == i).astype(np.float32), gt[i]):.2f}"
        )
    visual = cv2.imread(str(out / "visual.png"))
    labels_vis = cv2.applyColorMap((labels * 60).astype(np.uint8), cv2.COLORMAP_JET)
    cv2.imwrite(str(DOCS / "panoptic.png"), np.hstack([u8(image), labels_vis, visual]))
    # A region edit: the football recoloured (hue turned), blended by its soft alpha.
    hsv = cv2.cvtColor(u8(image), cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + 60) % 180
    hsv[..., 1] = np.maximum(hsv[..., 1], 160)
    recoloured = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float32)

    def edit(alpha):
        a = alpha[..., None]
        return np.rint(a * recoloured + (1 - a) * u8(image)).astype(np.uint8)

    crop = (slice(150, 280), slice(170, 320))
    hard, soft_edit = edit((labels == 1).astype(np.float32)), edit(soft[1])
    zoom = [
        cv2.resize(x[crop], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        for x in (hard, soft_edit)
    ]
    cv2.imwrite(str(DOCS / "panoptic-edit.jpg"), np.hstack(zoom))
    print(f"wrote {DOCS / 'panoptic.png'}, {DOCS / 'panoptic-edit.jpg'}")


if __name__ == "__main__":
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/wildmatte-demos")
    work.mkdir(parents=True, exist_ok=True)
    panoptic_demo(work)
    video_demo(work)
