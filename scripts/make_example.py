"""Make the bundled example (wildmatte/assets/): two held-out foregrounds overlapping on a photo.

The dog (target) stands in front of the rhino; the mask is a user-style coarse mask (the target's
alpha binarised at 0.5 and dilated), so the matte must separate the dog from what it touches.
Sources: tuxpaint-stamps-default and mate-backgrounds (GPL-2), see ../shared/data/SOURCES.md.
Run: .venv/bin/python scripts/make_example.py
"""

from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.composite import recalibrate
from wildmatte.data.guidance import paper_guidance
from wildmatte.data.imageio import read_rgb, read_rgba
from wildmatte.data.paths import data_root
from wildmatte.inference.io import write_png

OUT = Path(__file__).resolve().parents[1] / "wildmatte" / "assets"
W, H = 640, 448


def place(path: Path, height: int, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    fg, alpha = read_rgba(path)
    s = height / fg.shape[0]
    fg = cv2.resize(fg, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    canvas_f, canvas_a = np.zeros((H, W, 3), np.float32), np.zeros((H, W), np.float32)
    h, w = alpha.shape
    canvas_f[y : y + h, x : x + w] = fg[: H - y, : W - x]
    canvas_a[y : y + h, x : x + w] = alpha[: H - y, : W - x]
    return canvas_f, canvas_a


def main() -> None:
    root = data_root()
    bg = cv2.resize(read_rgb(root / "bg-train" / "mate__GreenMeadow.jpg"), (W, H))
    f1, a1 = place(root / "fg-train" / "animals__mammals__dogs__dog.png", 250, 150, 170)
    f2, a2 = place(root / "fg-train" / "animals__mammals__rhino_black.png", 260, 300, 120)
    ab1, ab2 = recalibrate([a1, a2])  # the dog in front
    image = ab1[..., None] * f1 + ab2[..., None] * f2 + (1 - ab1 - ab2)[..., None] * bg
    cv2.imwrite(
        str(OUT / "example.jpg"),
        cv2.cvtColor(np.rint(image * 255).astype(np.uint8), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, 92],
    )
    write_png(OUT / "example_mask.png", paper_guidance(ab1, kernel=15))
    write_png(OUT / "example_alpha.png", ab1)
    print(f"wrote {OUT}/example.jpg, example_mask.png, example_alpha.png")


if __name__ == "__main__":
    main()
