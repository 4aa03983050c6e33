"""Foreground colours by blur fusion: exact where the object is opaque, the background's colour
taken out where it is soft, and no numba compile (pymatting) on the default path."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from wildmatte.inference.foreground import estimate_foreground


def _composite(h: int = 120, w: int = 160, seed: int = 0):
    """A smoothly coloured disc with a wide soft edge over a textured background:
    (image, true foreground, alpha)."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    fg = np.stack(
        [0.8 + 0.1 * np.sin(xx / 9), 0.5 + 0.2 * np.cos(yy / 13), 0.2 + 0.1 * np.sin(xx / 17)], -1
    )
    bg = cv2.GaussianBlur(np.random.default_rng(seed).random((h, w, 3), np.float32), (0, 0), 3)
    alpha = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (h / 3) ** 2).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 5)
    alpha[alpha > 0.97] = 1.0
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), fg.astype(np.float32), alpha


def test_blur_fusion_is_exact_where_alpha_is_one():
    image, _, alpha = _composite()
    fg = estimate_foreground(image, alpha)
    assert fg.dtype == np.float32 and fg.shape == image.shape
    np.testing.assert_allclose(fg[alpha == 1], image[alpha == 1], atol=1e-5)


def test_blur_fusion_takes_the_background_out_of_soft_edges():
    image, truth, alpha = _composite()
    soft = (alpha > 0.1) & (alpha < 0.9)
    estimate_error = np.abs(estimate_foreground(image, alpha) - truth)[soft].mean()
    raw_error = np.abs(image - truth)[soft].mean()
    assert estimate_error < 0.6 * raw_error, (estimate_error, raw_error)


def test_the_estimate_stays_in_range_for_any_alpha():
    rng = np.random.default_rng(1)
    image = rng.random((40, 50, 3), np.float32)
    fg = estimate_foreground(image, rng.random((40, 50), np.float32))
    assert np.isfinite(fg).all() and fg.min() >= 0 and fg.max() <= 1
    zero = estimate_foreground(image, np.zeros((40, 50), np.float32))
    assert np.isfinite(zero).all()


def test_pymattings_estimator_stays_selectable():
    image, truth, alpha = _composite(48, 64)
    soft = (alpha > 0.1) & (alpha < 0.9)
    fg = estimate_foreground(image, alpha, method="ml")
    assert np.abs(fg - truth)[soft].mean() < np.abs(image - truth)[soft].mean()
    with pytest.raises(ValueError, match="unknown foreground method"):
        estimate_foreground(image, alpha, method="nope")


def test_a_cutout_does_not_load_pymatting():
    """pymatting's numba compile on import took ~52 s of the first `make demo`."""
    code = (
        "import sys, numpy as np\n"
        "from wildmatte.inference.pipeline import matte_file\n"
        "from wildmatte.inference.foreground import estimate_foreground\n"
        "estimate_foreground(np.ones((8, 8, 3), np.float32), np.ones((8, 8), np.float32))\n"
        "assert 'pymatting' not in sys.modules, 'pymatting imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
