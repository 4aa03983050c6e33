"""The 1/1 head on windows around its band: which windows, and the same alpha as the whole."""

import numpy as np
import pytest
import torch
from scenes import flat_disc

from wildmatte.inference import band_fine
from wildmatte.inference.band_fine import HALO, fine_in_band, windows
from wildmatte.inference.onnx_engine import CoarseGraph, FineGraph
from wildmatte.model import load_model


def test_one_window_per_cell_with_a_band_pixel_moved_inside_the_image():
    band = np.zeros((128, 192), bool)
    band[40, 70] = band[45, 75] = True  # one cell
    band[2, 3] = True  # top-left corner: the window cannot reach out
    band[127, 191] = True  # bottom-right corner
    assert sorted(windows(band, 32, 16)) == [
        (0, 0, 0, 0),
        (32, 64, 32 - 16, 64 - 16),
        (96, 160, 128 - 64, 192 - 64),
    ]


def test_cells_need_not_divide_the_image():
    band = np.zeros((100, 70), bool)
    band[99, 69] = True
    [(cy, cx, wy, wx)] = windows(band, 32, 4)
    assert (cy, cx) == (96, 64) and (wy, wx) == (100 - 40, 70 - 40)


@pytest.mark.parametrize("halo, exact", [(HALO, True), (8, False)])
def test_windows_give_the_whole_images_alpha_when_the_halo_covers_the_heads_reach(
    halo, exact, monkeypatch
):
    monkeypatch.setattr(band_fine, "MAX_SHARE", np.inf)  # windows, never one whole pass
    model = load_model("wildmatte/weights/default.safetensors").eval()
    image, mask = (torch.from_numpy(a) for a in flat_disc(192, 256))
    image, guidance = image.permute(2, 0, 1)[None], mask[None, None]
    with torch.no_grad():
        reference = model(image, guidance)["alpha"][0, 0].numpy()
        x, stem, d4, alpha, band = (t.numpy() for t in CoarseGraph(model)(image, guidance))
        alpha, band = alpha[0, 0], band[0, 0] > 0

        def fine(*crops: np.ndarray) -> np.ndarray:
            return FineGraph(model)(*map(torch.from_numpy, crops)).numpy()

        os1 = fine_in_band(fine, x, stem, d4, band, 32, halo)
    assert 0 < len(windows(band, 32, halo)) < (192 // 32) * (256 // 32) / 2
    diff = np.abs(np.where(band, os1, alpha) - reference).max()
    assert (diff < 1e-5) if exact else (diff > 1e-3)
