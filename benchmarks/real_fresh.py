"""Holes on real photos that no setting was chosen on: matplotlib's `grace_hopper.jpg` (a
portrait that fills the frame) and 20 coins of scikit-image's `coins` (textured metal, each coin
one target; those merged with the lit edge or touching the border are left out), with a polygon
traced around her and masks made by a threshold.

"Holes" is the share of the mask's core (eroded by 15 px, or by a quarter of a coin's radius)
that the engine puts below alpha 0.5: the object is opaque there. The masks are only roughly
the object, so a few tenths of a per cent can be real background; compare engines, not zero.

Needs scikit-image and matplotlib (their sample files ship in their wheels; nothing downloads):
    .venv/bin/python benchmarks/real_fresh.py [--weights A.safetensors B.safetensors ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from wildmatte import Matter

# Traced roughly around her (hat, head, shoulders, to the bottom edge), as with a mouse.
GRACE = [(180, 45), (260, 25), (350, 50), (372, 110), (378, 190), (365, 260), (345, 320),
         (420, 360), (490, 390), (511, 420), (511, 599), (15, 599), (20, 480), (50, 420),
         (120, 370), (190, 330), (165, 280), (150, 200), (150, 130), (170, 70)]  # fmt: skip


def grace() -> tuple[np.ndarray, list[np.ndarray], list[int]]:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        bgr = cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_COLOR)
    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.int32(GRACE)], 1)
    return image, [mask.astype(np.float32)], [15]


def coins() -> tuple[np.ndarray, list[np.ndarray], list[int]]:
    import skimage.data

    grey = skimage.data.coins()
    image = np.repeat(grey[..., None], 3, axis=2).astype(np.float32) / 255
    _, fg = cv2.threshold(
        cv2.GaussianBlur(grey, (5, 5), 0), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU
    )
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
    masks, erode = [], []
    for k in range(1, n):
        x, y, w, h, area = stats[k]
        if area < 300 or x == 0 or y == 0 or x + w == grey.shape[1] or y + h == grey.shape[0]:
            continue  # specks, and the lit edge the top coins merge with
        comp = (labels == k).astype(np.uint8)
        filled = comp.copy()
        contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(filled, contours, -1, 1, cv2.FILLED)
        masks.append(cv2.dilate(filled, np.ones((7, 7), np.uint8)).astype(np.float32))
        erode.append(max(2, round(0.25 * np.sqrt(filled.sum() / np.pi))))
    return image, masks, erode


def holes(alpha: np.ndarray, mask: np.ndarray, px: int) -> tuple[float, int]:
    core = cv2.erode(mask.astype(np.uint8), np.ones((2 * px + 1,) * 2, np.uint8)) > 0
    return float((alpha[core] < 0.5).mean()) if core.any() else 0.0, int(core.sum())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", nargs="*", default=[], help="other .safetensors (prn engine)")
    args = p.parse_args(argv)
    engines = {
        "default": Matter.from_pretrained(device="cpu"),
        "closed-form": Matter.from_pretrained(device="cpu", engine="classic"),
    }
    for w in args.weights:
        engines[Path(w).parent.name + "/" + Path(w).stem] = Matter.from_pretrained(
            device="cpu", engine="prn", weights=w
        )
    try:
        photos = {"grace_hopper": grace(), "coins": coins()}
    except ImportError as err:
        print(f"real_fresh.py: needs {err.name} (.venv/bin/pip install scikit-image)")
        return 2
    print("| engine | " + " | ".join(f"{k}: holes %" for k in photos) + " |")
    print("|---|" + "---|" * len(photos))
    for label, matter in engines.items():
        cells = []
        for image, masks, erode in photos.values():
            shares = [holes(matter.predict(image, m), m, e) for m, e in zip(masks, erode)]
            area = sum(n for _, n in shares)
            pooled = sum(s * n for s, n in shares) / max(area, 1)
            worst = max(s for s, _ in shares)
            cells.append(f"{100 * pooled:.2f} (worst {100 * worst:.1f}, {len(masks)} obj.)")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
