"""docs/example.png for the README: the bundled example with its mask outlined, the predicted
alpha, and the cutout over a new background, from the bundled default model.
Run: .venv/bin/python scripts/readme_figure.py
"""

from pathlib import Path

import cv2
import numpy as np

from wildmatte import Matter
from wildmatte.inference.io import read_image, read_mask, write_png

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "wildmatte" / "assets"


def main() -> None:
    image = read_image(ASSETS / "example.jpg")
    mask = read_mask(ASSETS / "example_mask.png", image.shape[:2])
    matter = Matter.from_pretrained()
    alpha = matter.predict(image, mask)
    comp = matter.composite(image, "#2f6fdf", alpha=alpha)
    shown = image.copy()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(shown, contours, -1, (1.0, 0.1, 0.1), 2)
    gap = np.ones((image.shape[0], 8, 3), np.float32)
    row = np.hstack([shown, gap, np.repeat(alpha[..., None], 3, 2), gap, comp])
    print(write_png(ROOT / "docs" / "example.png", row))


if __name__ == "__main__":
    main()
