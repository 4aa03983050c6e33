"""The web demo end to end in headless Chromium (Debian's `chromium`, driven by Playwright).

The server runs in a thread on a free loopback port. Screenshots go to $WILDMATTE_ARTIFACTS
(default: outputs/test-artifacts/, git-ignored). Skipped only where no Chromium is installed.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

CHROMIUM = os.environ.get("WILDMATTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no Chromium binary at {CHROMIUM} (apt-get install chromium)", allow_module_level=True
    )

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from wildmatte.interfaces.web import Settings, create_app  # noqa: E402

# No downloads, no background traffic, no GPU: the browser only talks to our loopback server.
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
PHOTO = (320, 240)  # W, H: not square, so a swapped size would show
ARTIFACTS = Path(
    os.environ.get("WILDMATTE_ARTIFACTS", Path(__file__).parents[1] / "outputs" / "test-artifacts")
)


def write_photo(path: Path, size: tuple[int, int]) -> Path:
    """A warm ellipse in the middle of a cool, textured background."""
    w, h = size
    rng = np.random.default_rng(0)
    image = np.empty((h, w, 3), np.uint8)
    image[:] = (160, 90, 40)  # BGR
    image = np.clip(image + rng.integers(-15, 15, image.shape), 0, 255).astype(np.uint8)
    cv2.ellipse(image, (w // 2, h // 2), (w // 5, h // 4), 0, 0, 360, (40, 160, 230), -1)
    cv2.imwrite(str(path), image)
    return path


@pytest.fixture(scope="module")
def server_url():
    app = create_app(Settings(engine="guidance", max_megapixels=0.2))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        thread.join(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server_url, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(server_url)
    page.wait_for_selector("#engine option[value=guidance]", state="attached")
    page.set_input_files("#photo", str(write_photo(tmp_path / "photo.png", PHOTO)))
    page.wait_for_function("document.querySelector('#overlay').width > 0")
    yield page
    page.close()


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press, move and release the mouse on the photo; points are fractions of its size."""
    box = page.locator("#overlay").bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in (start, end)]
    page.mouse.move(*at[0])
    page.mouse.down()
    page.mouse.move(*at[1], steps=10)
    page.mouse.up()


def run_and_wait(page) -> None:
    page.click("#run")
    page.wait_for_function(
        "document.querySelector('#status').textContent.startsWith('Done')"
        " || document.querySelector('#status').classList.contains('error')",
        timeout=60_000,
    )


def downloaded(page, link: str) -> np.ndarray:
    """The file a Download link points at, fetched in the page and decoded here."""
    data = page.evaluate(
        """async (sel) => {
            const response = await fetch(document.querySelector(sel).href);
            return Array.from(new Uint8Array(await response.arrayBuffer()));
        }""",
        link,
    )
    return np.asarray(Image.open(io.BytesIO(bytes(data))))


def test_box_upload_run_and_results_at_the_photos_size(page):
    drag(page, (0.2, 0.15), (0.8, 0.85))
    assert page.is_enabled("#run")
    run_and_wait(page)
    assert page.text_content("#status").startswith("Done: 320×240 by guidance")
    for name in ("alpha", "cutout", "composite", "guidance"):
        size = page.evaluate(
            "(id) => [document.getElementById(id).naturalWidth, "
            "document.getElementById(id).naturalHeight]",
            f"{name}Img",
        )
        assert tuple(size) == PHOTO, name
        assert (
            page.get_attribute(f"#{name}Link", "download")
            == f"{name if name != 'guidance' else 'mask'}.png"
        )
    alpha = downloaded(page, "#alphaLink")
    assert alpha.shape == (240, 320)
    assert alpha[120, 160] == 255 and alpha[5, 5] == 0  # GrabCut kept the ellipse, not the corner
    assert downloaded(page, "#cutoutLink").shape == (240, 320, 4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve-browser-test.png"), full_page=True)


def test_painted_strokes_become_the_mask(page):
    page.click(".tabs button[data-mode=paint]")
    drag(page, (0.3, 0.5), (0.7, 0.5))
    run_and_wait(page)
    assert page.text_content("#status").startswith("Done")
    alpha = downloaded(page, "#alphaLink")  # the guidance engine: the painted stroke itself
    assert alpha[120, 160] == 255 and alpha[120, 40] == 0 and alpha[20, 160] == 0


def test_a_refusal_is_shown_on_the_page(page, tmp_path):
    page.set_input_files("#photo", str(write_photo(tmp_path / "big.png", (640, 480))))
    page.wait_for_function("document.querySelector('#overlay').width === 640")
    drag(page, (0.2, 0.2), (0.8, 0.8))
    run_and_wait(page)
    assert page.get_attribute("#status", "class") == "error"
    assert page.text_content("#status") == (
        "image: 640×480 is 0.31 megapixels; this server accepts at most 0.2"
    )
