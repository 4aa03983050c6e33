"""Shared fixtures: tiny starter-like data made on the fly; a cache folder of the test run's own."""

from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory):
    """The ONNX exports (and anything else cached) go to a temporary folder, not ~/.cache:
    WILDMATTE_CACHE is also what the CLI subprocesses of the tests inherit."""
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("cache")
        mp.setenv("WILDMATTE_CACHE", str(cache))
        yield cache


def make_rgba_folder(folder: Path, n: int = 6, size: int = 72, seed: int = 0) -> Path:
    """RGBA cutouts: textured ellipses with soft (blurred) edges."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        alpha = np.zeros((size, size), np.uint8)
        centre = (int(rng.integers(25, size - 25)), int(rng.integers(25, size - 25)))
        axes = (int(rng.integers(12, 24)), int(rng.integers(12, 24)))
        cv2.ellipse(alpha, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        alpha = cv2.GaussianBlur(alpha, (5, 5), 1.5)
        colour = rng.integers(0, 256, (size, size, 3), dtype=np.uint8) // 4 + rng.integers(
            0, 190, 3
        ).astype(np.uint8)
        cv2.imwrite(str(folder / f"obj{i}.png"), np.dstack([colour, alpha]))
    return folder


def make_bg_folder(folder: Path, n: int = 4, size: int = 96, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), (9, 9), 3)
        cv2.imwrite(str(folder / f"bg{i}.jpg"), img)
    return folder


@pytest.fixture
def tiny_data(tmp_path) -> dict:
    return {
        "fg": make_rgba_folder(tmp_path / "fg"),
        "bg": make_bg_folder(tmp_path / "bg"),
    }
