"""Screenshot of the web demo for docs/serve.png: the bundled example photo, a box drawn
around the object from its mask's extent, the default engine, in headless Chromium.

    wildmatte serve --port 8000 &
    python scripts/serve_screenshot.py --url http://127.0.0.1:8000 --out docs/serve.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

ASSETS = Path(__file__).resolve().parents[1] / "wildmatte" / "assets"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def box_fractions(mask_path: Path, margin: int = 12) -> tuple[tuple[float, float], ...]:
    """The mask's bounding box, grown by `margin` px, as fractions of the image size."""
    mask = np.asarray(Image.open(mask_path).convert("L")) > 127
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    x0, x1 = max(xs.min() - margin, 0) / w, min(xs.max() + margin, w - 1) / w
    y0, y1 = max(ys.min() - margin, 0) / h, min(ys.max() + margin, h - 1) / h
    return (x0, y0), (x1, y1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/serve.png"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(args.url)
        page.wait_for_selector("#engine option", state="attached")
        page.set_input_files("#photo", str(ASSETS / "example.jpg"))
        page.wait_for_function("document.querySelector('#overlay').width > 0")
        area = page.locator("#overlay").bounding_box()
        points = [
            (area["x"] + fx * area["width"], area["y"] + fy * area["height"])
            for fx, fy in box_fractions(ASSETS / "example_mask.png")
        ]
        page.mouse.move(*points[0])
        page.mouse.down()
        page.mouse.move(*points[1], steps=10)
        page.mouse.up()
        page.click("#run")
        page.wait_for_function(
            "/^(Done|.*error)/i.test(document.querySelector('#status').textContent)"
            " || document.querySelector('#status').className === 'error'",
            timeout=120_000,
        )
        print(page.text_content("#status"))
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
