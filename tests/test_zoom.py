"""Small objects are matted on an upscaled crop around their guidance; larger ones untouched."""

import numpy as np
import pytest

from wildmatte.inference.engines import get_engine
from wildmatte.inference.zoom import ZoomEngine, ZoomOptions, zoom_box, zoom_factor


class Pointwise:
    """An engine whose alpha is a pointwise function of the image, recording what it was given."""

    name = "pointwise"

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, int], np.ndarray]] = []

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        self.calls.append((guidance.shape, guidance))
        return np.clip(image[..., 0], 0, 1).astype(np.float32)


def _square_scene(h: int, w: int, top: int, left: int, side: int):
    image = np.zeros((h, w, 3), np.float32)
    image[top : top + side, left : left + side, 0] = 1.0
    mask = np.zeros((h, w), np.float32)
    mask[top : top + side, left : left + side] = 1.0
    return image, mask


def test_factor_brings_the_box_to_min_object_within_max_zoom():
    opt = ZoomOptions(min_object=320, max_zoom=4.0)
    mask = np.zeros((240, 320), np.float32)
    mask[100:180, 50:130] = 1  # 80 px box
    assert zoom_factor(mask, opt) == pytest.approx(4.0)
    mask[100:180, 50:210] = 1  # 160 px
    assert zoom_factor(mask, opt) == pytest.approx(2.0)
    assert zoom_factor(np.ones((400, 400), np.float32), opt) == 1.0  # large: not at all
    assert zoom_factor(np.zeros((50, 50), np.float32), opt) == 1.0  # empty guidance


def test_box_grows_by_the_margin_and_stays_inside_the_image():
    mask = np.zeros((100, 200), np.float32)
    mask[10:30, 150:190] = 1  # 40 px wide
    top, bottom, left, right = zoom_box(mask, 0.5)
    assert (top, bottom, left, right) == (0, 50, 130, 200)


def test_small_object_is_matted_upscaled_and_returned_at_the_image_size():
    image, mask = _square_scene(240, 320, 100, 100, 40)
    base = Pointwise()
    alpha = ZoomEngine(base, ZoomOptions(min_object=160, margin=0.5))(image, mask)
    ((shape, guide),) = base.calls
    assert shape == (4 * 80, 4 * 80)  # the 80 px crop (40 + 2 × 20 margin), 4× up
    assert guide.sum() == pytest.approx(160 * 160)  # the 40 px square, 4× up
    assert alpha.shape == (240, 320) and alpha.dtype == np.float32
    # Scaled back, the crop lands where it came from; outside it alpha is 0.
    np.testing.assert_allclose(alpha[102:138, 102:138], 1.0, atol=1e-4)
    assert alpha[:80].max() == 0 and alpha[:, :80].max() == 0 and alpha[160:].max() == 0


def test_large_objects_and_empty_guidance_go_straight_through():
    image, mask = _square_scene(240, 320, 20, 20, 200)
    base = Pointwise()
    engine = ZoomEngine(base, ZoomOptions(min_object=160))
    np.testing.assert_array_equal(engine(image, mask), image[..., 0])
    engine(image, np.zeros_like(mask))
    assert [s for s, _ in base.calls] == [(240, 320), (240, 320)]


def test_get_engine_wraps_learned_engines_only():
    assert isinstance(get_engine("prn", init="random", zoom=True), ZoomEngine)
    assert not isinstance(get_engine("prn", init="random"), ZoomEngine)
    assert not isinstance(get_engine("classic", zoom=True), ZoomEngine)
