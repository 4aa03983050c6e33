"""Coarse-to-fine for big photos: a global pass, then blended tiles only on the uncertain band."""

import cv2
import numpy as np
import pytest

from wildmatte.inference.hires import (
    HiresEngine,
    HiresOptions,
    band_tiles,
    tile_starts,
    window,
)
from wildmatte.interfaces.cli import main


class Fake:
    """An engine whose alpha is a pointwise function of the image: every tile agrees on every
    pixel, so any seam or blending error shows as a difference."""

    name = "fake"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        self.shapes.append(guidance.shape)
        return np.clip(image[..., 0] * 1.2 - 0.1, 0, 1).astype(np.float32)


def _disc(h: int, w: int):
    """A soft-edged disc (image channel 0 ramps 0 → 1 across its edge) and its mask."""
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    soft = np.clip((min(h, w) / 3 - r) / 40 + 0.5, 0, 1).astype(np.float32)
    image = np.dstack([soft, np.full_like(soft, 0.3), 1 - soft])
    return image, (soft > 0.5).astype(np.float32)


@pytest.mark.parametrize("length, tile, overlap", [(100, 512, 64), (512, 512, 64), (1500, 512, 96)])
def test_tiles_cover_the_side_with_overlap(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and min(starts[-1] + tile, length) == length
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:]))


def test_window_keeps_full_weight_on_image_borders():
    w = window(100, 20, low_edge=False, high_edge=True)
    assert w[0] == 1 and w[50] == 1 and 0 < w[-1] < 0.1 and np.all(np.diff(w[80:]) < 0)


def test_only_tiles_holding_band_pixels_run():
    band = np.zeros((2000, 2000), np.uint8)
    band[100:120, 100:120] = 1
    assert list(band_tiles(band, 512, 64)) == [(0, 512, 0, 512)]


def test_small_images_go_straight_through_without_notice():
    notes, fake = [], Fake()
    image, mask = _disc(64, 80)
    alpha = HiresEngine(fake, HiresOptions(max_pixels=64 * 80), notes.append)(image, mask)
    assert fake.shapes == [(64, 80)] and not notes
    np.testing.assert_array_equal(alpha, Fake()(image, mask))


def test_big_images_are_blended_without_seams_and_noticed_once():
    notes, fake = [], Fake()
    opt = HiresOptions(max_pixels=1e5, work_side=256, tile=256, overlap=48)
    engine = HiresEngine(fake, opt, notes.append)
    image, mask = _disc(900, 1200)
    alpha = engine(image, mask)
    engine(image, mask)
    assert len(notes) == 1 and "coarse-to-fine" in notes[0] and "--no-hires" in notes[0]
    assert fake.shapes[0] == (192, 256)  # the global pass at the working size
    tiles = fake.shapes[1 : 1 + engine.last_tiles]
    assert tiles and all(s[0] <= 256 and s[1] <= 256 for s in tiles)
    assert engine.last_tiles < len(tile_starts(900, 256, 48)) * len(tile_starts(1200, 256, 48))
    truth = Fake()(image, mask)
    band = (truth > 0.02) & (truth < 0.98)
    # Inside the edge every pixel is the full-resolution value: no seam, no blur from the
    # global pass.
    assert np.abs(alpha - truth)[band].max() < 1e-5
    assert alpha.shape == (900, 1200) and alpha.dtype == np.float32


def test_predict_says_when_it_goes_coarse_to_fine_and_no_hires_turns_it_off(tmp_path, capsys):
    image, mask = _disc(120, 160)
    cv2.imwrite(str(tmp_path / "a.png"), (image[..., ::-1] * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), (mask * 255).astype(np.uint8))
    base = [str(tmp_path / "a.png"), "--mask", str(tmp_path / "m.png"), "--engine", "prn"]
    base += ["--init", "random", "--model", "prn-tiny", "--hires-above", "0.01"]
    assert main(["predict", *base, "-o", str(tmp_path / "hi.png")]) == 0
    assert "coarse-to-fine" in capsys.readouterr().err
    assert main(["predict", *base, "-o", str(tmp_path / "lo.png"), "--no-hires"]) == 0
    assert "coarse-to-fine" not in capsys.readouterr().err
    assert cv2.imread(str(tmp_path / "hi.png"), 0).shape == (120, 160)
