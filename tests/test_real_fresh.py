"""benchmarks/real_fresh.py: the hole measure and the portrait's mask (the coins need
scikit-image, which no extra installs; the script says so when it is missing)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import real_fresh  # noqa: E402


def test_holes_counts_the_core_below_one_half_only():
    mask = np.zeros((60, 60), np.float32)
    mask[10:50, 10:50] = 1
    alpha = mask.copy()
    alpha[28:32, 28:32] = 0.2  # a 16-px hole in the core
    alpha[10:14, 10:50] = 0.0  # a dropped rim: outside the core eroded by 5 px
    share, core = real_fresh.holes(alpha, mask, 5)
    assert core == 30 * 30 and share == 16 / core
    assert real_fresh.holes(mask, mask, 5) == (0.0, core)
    assert real_fresh.holes(mask, mask, 30) == (0.0, 0)  # nothing left of the core


def test_the_portrait_mask_covers_her_and_leaves_the_sky():
    image, masks, erode = real_fresh.grace()
    (mask,) = masks
    assert image.shape == (600, 512, 3) and mask.shape == (600, 512) and erode == [15]
    assert mask[550, 256] == 1 and mask[250, 260] == 1  # her uniform, her face
    assert mask[100, 480] == 0 and mask[150, 30] == 0  # the sky, the flag
