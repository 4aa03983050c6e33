"""docs/real-photos.jpg: the default model and closed-form matting on real photographs.

The photos are scikit-image's bundled samples (they ship inside the wheel, nothing is
downloaded); the coarse masks are hand-traced polygons in docs/real-photos/masks.json, one
object per photo. Each row of the grid shows one photo: the photo with the mask outlined, then
alpha and cutout (over a checkerboard) of the default engine, then of closed-form
(`engine="classic"`). Each row is cropped around its mask so small objects stay visible.

Needs scikit-image, which no wildmatte extra installs:
    .venv/bin/pip install scikit-image
Run:
    .venv/bin/python scripts/real_photos.py [--weights PATH] [--out docs/real-photos.jpg]
--weights: another `.safetensors` for the learned engine (default: the bundled model).
The output format follows the suffix (.jpg keeps the figure small; .png is lossless).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from wildmatte import Matter
from wildmatte.files import write_bytes
from wildmatte.inference.io import to_uint

ROOT = Path(__file__).resolve().parents[1]
MASKS = ROOT / "docs" / "real-photos" / "masks.json"
COLUMNS = (
    "photo + mask",
    "default alpha",
    "default cutout",
    "closed-form alpha",
    "closed-form cutout",
)
CELL_W = 316  # five cells and four gaps: about 1600 px wide
GAP = 4
HEADER = 28
OUTLINE = (0.0, 1.0, 1.0)  # cyan: visible on every photo here
DEEP = 15  # px inside the traced outline


def load_photo(loader: str) -> np.ndarray:
    """A bundled scikit-image sample as H×W×3 float32 RGB in [0, 1]."""
    import skimage.data

    photo = getattr(skimage.data, loader)()
    if photo.ndim == 2:  # camera is grey
        photo = np.repeat(photo[..., None], 3, axis=2)
    return photo[..., :3].astype(np.float32) / 255.0


def rasterise(polygon: list[list[int]], shape: tuple[int, int]) -> np.ndarray:
    """The polygon filled as an H×W float32 {0, 1} mask."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.asarray(polygon, np.int32)], 1)
    return mask.astype(np.float32)


def display_box(mask: np.ndarray, margin: float = 0.12, min_aspect: float = 0.75) -> tuple:
    """(y0, y1, x0, x1): the mask's bounding box with a margin, widened to at least
    `min_aspect` (w/h) so a thin object (the rocket) keeps some context, clipped to the image."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    my, mx = margin * (y1 - y0), margin * (x1 - x0)
    half_w = max((x1 - x0) / 2 + mx, min_aspect * ((y1 - y0) / 2 + my))
    cx = (x0 + x1) / 2
    return (
        max(0, int(y0 - my)),
        min(h, int(y1 + my)),
        max(0, int(cx - half_w)),
        min(w, int(cx + half_w)),
    )


def checkerboard(shape: tuple[int, int], square: int = 10) -> np.ndarray:
    """Light/dark grey squares: holes and stray background both show against them."""
    yy, xx = np.indices(shape)
    grey = np.where((yy // square + xx // square) % 2 == 0, 0.82, 0.55).astype(np.float32)
    return np.repeat(grey[..., None], 3, axis=2)


def engine_cells(matter: Matter, photo: np.ndarray, mask: np.ndarray) -> tuple[list, dict]:
    """[alpha shown as RGB, cutout over a checkerboard] and a few numbers about the alpha."""
    alpha = matter.predict(photo, mask)
    comp = matter.composite(photo, checkerboard(mask.shape), alpha=alpha)
    inside, outside = mask > 0.5, mask <= 0.5
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * DEEP + 1,) * 2)
    deep = cv2.erode(mask.astype(np.uint8), disc) > 0
    stats = {
        # How much of the traced area the engine drops, and how much it adds outside it.
        "mask_below_0.5": round(float((alpha[inside] < 0.5).mean()), 4),
        # Holes: a traced object is solid this far inside its outline (issue 34's target, 0.2 %).
        f"eroded{DEEP}_below_0.5": round(float((alpha[deep] < 0.5).mean()), 4),
        "outside_above_0.5_px": int((alpha[outside] >= 0.5).sum()),
        "partial_px": int(((alpha > 0.05) & (alpha < 0.95)).sum()),
    }
    return [np.repeat(alpha[..., None], 3, axis=2), comp], stats


def outlined(photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shown = photo.copy()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(shown, contours, -1, OUTLINE, 2)
    return shown


def grid_row(cells: list[np.ndarray], box: tuple) -> np.ndarray:
    """The cells cropped to `box`, resized to CELL_W wide, side by side."""
    y0, y1, x0, x1 = box
    height = round(CELL_W * (y1 - y0) / (x1 - x0))
    gap = np.ones((height, GAP, 3), np.float32)
    parts = []
    for cell in cells:
        crop = cv2.resize(cell[y0:y1, x0:x1], (CELL_W, height), interpolation=cv2.INTER_AREA)
        parts += [crop, gap]
    return np.hstack(parts[:-1])


def header(width: int) -> np.ndarray:
    strip = np.full((HEADER, width, 3), 255, np.uint8)  # putText draws on 8-bit images only
    for i, title in enumerate(COLUMNS):
        x = i * (CELL_W + GAP) + 8
        cv2.putText(strip, title, (x, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return strip.astype(np.float32) / 255.0


def write_image(path: Path, image: np.ndarray) -> None:
    """RGB float image to .jpg (quality 90) or .png, atomically."""
    bgr = cv2.cvtColor(to_uint(image), cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(path.suffix.lower(), bgr, params)
    if not ok:
        raise ValueError(f"{path}: cannot encode an image with this suffix")
    write_bytes(path, buf.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="weights for the learned engine (default: bundled)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "real-photos.jpg")
    parser.add_argument("--masks", type=Path, default=MASKS)
    parser.add_argument("--device", help="torch device for the learned engine")
    args = parser.parse_args()

    engines = {
        "default": Matter.from_pretrained(args.weights, device=args.device),
        "closed-form": Matter.from_pretrained(engine="classic"),
    }
    print("default engine:", engines["default"].info())  # which weights made the figure
    specs = {k: v for k, v in json.loads(args.masks.read_text()).items() if not k.startswith("_")}
    rows = []
    for name, spec in specs.items():
        photo = load_photo(spec["loader"])
        mask = rasterise(spec["polygon"], photo.shape[:2])
        cells = [outlined(photo, mask)]
        for label, matter in engines.items():
            shown, stats = engine_cells(matter, photo, mask)
            cells += shown
            print(f"{name:10s} {label:11s} {stats}", flush=True)
        rows.append(grid_row(cells, display_box(mask)))
    width = rows[0].shape[1]
    bar = np.ones((GAP * 2, width, 3), np.float32)
    grid = np.vstack([header(width)] + [part for row in rows for part in (row, bar)][:-1])
    write_image(args.out, grid)
    print(f"wrote {args.out} ({grid.shape[1]}×{grid.shape[0]})")


if __name__ == "__main__":
    main()
