"""The 1/1 head on windows around its band: which windows, and the same alpha as the whole."""

import numpy as np
import pytest
import torch

from wildmatte.inference import band_fine
from wildmatte.inference.band_fine import HALO, fine_in_band, windows
from wildmatte.model import load_model
from wildmatte.model.fusion import RADIUS_OS1, RADIUS_OS4, replace_in_band, uncertain_band


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


def _scene(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    import cv2

    image = np.full((h, w, 3), (0.2, 0.5, 0.3), np.float32)
    cv2.rectangle(image, (w // 4, h // 4), (3 * w // 4, 3 * h // 4), (0.9, 0.8, 0.2), -1)
    mask = np.zeros((h, w), np.float32)
    mask[h // 4 - 8 : 3 * h // 4 + 8, w // 4 - 8 : 3 * w // 4 + 8] = 1
    return torch.from_numpy(image.transpose(2, 0, 1))[None], torch.from_numpy(mask)[None, None]


@pytest.mark.parametrize("halo, exact", [(HALO, True), (8, False)])
def test_windows_give_the_whole_images_alpha_when_the_halo_covers_the_heads_reach(
    halo, exact, monkeypatch
):
    monkeypatch.setattr(band_fine, "MAX_SHARE", np.inf)  # windows, never one whole pass
    model = load_model("wildmatte/weights/default.safetensors").eval()
    image, guidance = _scene(192, 256)
    with torch.no_grad():
        reference = model(image, guidance)["alpha"][0, 0].numpy()
        x = model.inputs(image, guidance)
        c = model.coarse(x)
        a8 = model._to_alpha(model.head_os8(c["d8"]), (192, 256))
        a4 = model._to_alpha(model.head_os4(c["d4"]), (192, 256))
        alpha = replace_in_band(a8, a4, RADIUS_OS4)[0, 0].numpy()
        band = uncertain_band(torch.from_numpy(alpha)[None, None], RADIUS_OS1)[0, 0].numpy()

        def fine(*crops: np.ndarray) -> np.ndarray:
            out = model.fine(*map(torch.from_numpy, crops))
            return model._to_alpha(out, out.shape[2:]).numpy()

        os1 = fine_in_band(fine, x.numpy(), c["stem"].numpy(), c["d4"].numpy(), band, 32, halo)
    assert 0 < len(windows(band, 32, halo)) < (192 // 32) * (256 // 32) / 2
    diff = np.abs(np.where(band, os1, alpha) - reference).max()
    assert (diff < 1e-5) if exact else (diff > 1e-3)
