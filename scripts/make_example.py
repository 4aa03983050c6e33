"""Make the bundled example (wildmatte/assets/): scikit-image's `coffee` photo, a coarse mask of
the cup with its saucer and spoon, and a reference alpha for the regression test.

The photo is CC0 (Rachel Michetti, shipped in scikit-image's wheel as skimage/data/coffee.png;
see wildmatte/assets/NOTICE.md). No training run saw it: training reads only the starter data's
fg-train/bg-train and procedural shapes.

- The object's outline: GrabCut (OpenCV) started from a loose hand-placed ellipse around the
  saucer and the cup, with one stroke marking the spoon's handle, which is as dark as the table.
  Checked by eye on an overlay.
- example_mask.png: that outline dilated 15 px, as a user's coarse mask.
- example_alpha.png: closed-form matting (pymatting) on a trimap of the outline ± 4 px. It is a
  *reference*, not ground truth: the regression test measures agreement with it.

Needs scikit-image, which no wildmatte extra installs (only its data file is read):
    .venv/bin/pip install scikit-image
Run: .venv/bin/python scripts/make_example.py
"""

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.guidance import paper_guidance
from wildmatte.inference.io import write_png
from wildmatte.inference.pymatting_import import load_pymatting

OUT = Path(__file__).resolve().parents[1] / "wildmatte" / "assets"
BAND = 4  # px each side of the outline left to closed-form matting: porcelain edges are sharp


def coffee_path() -> Path:
    """skimage/data/coffee.png inside the installed package (skimage itself is not imported)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("make_example.py needs scikit-image: .venv/bin/pip install scikit-image")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "coffee.png"


def outline(bgr: np.ndarray) -> np.ndarray:
    """The cup, saucer and spoon as a 0/1 mask (GrabCut from hand-placed hints)."""
    h, w = bgr.shape[:2]
    allowed = np.zeros((h, w), np.uint8)
    cv2.ellipse(allowed, (278, 229), (214, 170), 0, 0, 360, 1, -1)  # the saucer, loosely
    cv2.ellipse(allowed, (290, 110), (130, 100), 0, 0, 360, 1, -1)  # the cup's rim
    cv2.rectangle(allowed, (390, 55), (430, 130), 1, -1)  # the spoon's handle
    hints = np.where(allowed > 0, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
    cv2.line(hints, (398, 100), (410, 72), cv2.GC_FGD, 6)  # the handle is as dark as the table
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(bgr, hints, None, bgd, fgd, 8, cv2.GC_INIT_WITH_MASK)
    seg = np.isin(hints, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    # The largest piece, holes filled: GrabCut leaves specks on the wood and in the spoon's glints.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(seg)
    seg = (labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])).astype(np.uint8)
    contours, _ = cv2.findContours(seg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return cv2.drawContours(np.zeros_like(seg), contours, -1, 1, -1)


def main() -> None:
    bgr = cv2.imread(str(coffee_path()), cv2.IMREAD_COLOR)
    seg = outline(bgr)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND + 1, 2 * BAND + 1))
    trimap = np.full(seg.shape, 0.5)
    trimap[cv2.erode(seg, kernel) > 0] = 1.0
    trimap[cv2.dilate(seg, kernel) == 0] = 0.0
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float64) / 255
    alpha = np.clip(load_pymatting().estimate_alpha_cf(rgb, trimap), 0, 1)
    cv2.imwrite(str(OUT / "example.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
    write_png(OUT / "example_mask.png", paper_guidance(alpha.astype(np.float32), kernel=31))
    write_png(OUT / "example_alpha.png", alpha.astype(np.float32))
    print(f"wrote {OUT}/example.jpg, example_mask.png, example_alpha.png")


if __name__ == "__main__":
    main()
