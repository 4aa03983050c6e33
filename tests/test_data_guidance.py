"""Guidance masks made from a ground-truth alpha (wildmatte.data.guidance)."""

import cv2
import numpy as np
import pytest

from wildmatte.data.guidance import (
    cutmask,
    kernel_range,
    noisy_guidance,
    paper_guidance,
    simulate_guidance,
)


def _disk(size: int, radius: int, centre: tuple[int, int] | None = None) -> np.ndarray:
    alpha = np.zeros((size, size), np.uint8)
    cx, cy = centre or (size // 2, size // 2)
    cv2.circle(alpha, (cx, cy), radius, 1, -1)
    return alpha.astype(np.float32)


def _soft_disk(size: int, radius: int) -> np.ndarray:
    return cv2.GaussianBlur(_disk(size, radius), (0, 0), 3)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return float((a & b).sum() / max((a | b).sum(), 1))


def _boundary_shift(mask: np.ndarray, binary: np.ndarray) -> float:
    """Largest distance (px) from the edge of binary of a pixel where mask differs from it."""
    b = binary.astype(np.uint8)
    inside = cv2.distanceTransform(b, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - b, cv2.DIST_L2, 5)
    changed = (mask > 0) != (b > 0)
    return float(np.maximum(inside, outside)[changed].max()) if changed.any() else 0.0


def _is_binary_f32(mask: np.ndarray, shape) -> bool:
    return mask.dtype == np.float32 and mask.shape == shape and set(np.unique(mask)) <= {0.0, 1.0}


# -- paper guidance ----------------------------------------------------------------------------


def test_paper_guidance_hand_made():
    alpha = np.zeros((50, 50), np.float32)
    alpha[20, 20] = 0.5  # ≥ 0.5: in
    alpha[40, 5] = 0.49  # below the threshold: out
    mask = paper_guidance(alpha)
    expected = np.zeros((50, 50), np.float32)
    expected[8:33, 8:33] = 1  # a 25×25 square around (20, 20)
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.float32


def test_paper_guidance_equals_threshold_then_square_dilation():
    alpha = _soft_disk(80, 20)
    alpha[5:8, 60:70] = 0.7  # a separate thin bar
    mask = paper_guidance(alpha)
    binary = (alpha >= 0.5).astype(np.uint8)
    padded = np.pad(binary, 12)
    # Dilation by a 25×25 square is a max over the 25×25 window, written out by hand.
    windows = np.lib.stride_tricks.sliding_window_view(padded, (25, 25))
    np.testing.assert_array_equal(mask, windows.max(axis=(2, 3)).astype(np.float32))
    np.testing.assert_array_equal(paper_guidance(np.zeros((10, 10), np.float32)), 0)


def test_paper_guidance_other_kernel():
    alpha = np.zeros((9, 9), np.float32)
    alpha[4, 4] = 1
    mask = paper_guidance(alpha, kernel=3)
    assert mask.sum() == 9 and mask[3:6, 3:6].all()


# -- simulated (training) guidance -------------------------------------------------------------


def test_kernel_range_scales_with_crop_size():
    assert kernel_range(512) == (1, 29)
    assert kernel_range(1024) == (1, 58)
    for size in (64, 128, 256, 320, 800):
        lo, hi = kernel_range(size)
        assert lo == 1 and abs(hi - 29 * size / 512) <= 0.5
    assert kernel_range(4) == (1, 1)


def test_simulate_guidance_is_binary_and_covers_the_alpha():
    alpha = _soft_disk(256, 70)
    target = alpha >= 0.5
    ious = []
    for seed in range(40):
        mask = simulate_guidance(alpha, np.random.default_rng(seed), crop_size=256)
        assert _is_binary_f32(mask, alpha.shape)
        assert mask.any()
        ious.append(_iou(mask, target))
    assert min(ious) > 0.6  # kernels ≤ 15 px and a threshold ±3 px: never far off
    assert np.mean(ious) > 0.8
    assert len({round(i, 4) for i in ious}) > 20  # random, not one fixed mask


def test_simulate_guidance_is_seeded():
    alpha = _soft_disk(128, 30)
    a = simulate_guidance(alpha, np.random.default_rng(5), crop_size=128)
    b = simulate_guidance(alpha, np.random.default_rng(5), crop_size=128)
    np.testing.assert_array_equal(a, b)


def test_simulate_guidance_both_erodes_and_dilates():
    alpha = _disk(200, 60)  # hard edge: the threshold makes no difference
    inside, grown, shrunk = alpha > 0, 0, 0
    for seed in range(60):
        mask = simulate_guidance(alpha, np.random.default_rng(seed), crop_size=512) > 0
        grown += bool((mask & ~inside).any())
        shrunk += bool((~mask & inside).any())
    assert grown >= 10 and shrunk >= 10


def test_simulate_guidance_threshold_is_random():
    ramp = np.tile(np.linspace(0, 1, 200, dtype=np.float32), (40, 1))
    # A 1 px crop makes every kernel 1×1: only the threshold changes the mask.
    areas = [
        simulate_guidance(ramp, np.random.default_rng(s), crop_size=1).mean() for s in range(50)
    ]
    assert min(areas) < 0.2 and max(areas) > 0.8  # threshold spread over [0.01, 1)
    assert max(areas) <= 0.995  # never below 0.01


def test_simulate_guidance_kernels_scale_with_crop_size():
    alpha = _disk(200, 60)

    def largest_shift(crop: int) -> float:
        return max(
            _boundary_shift(simulate_guidance(alpha, np.random.default_rng(s), crop), alpha)
            for s in range(40)
        )

    small, large = largest_shift(64), largest_shift(512)  # kernels ≤ 4 px vs ≤ 29 px
    assert small <= 3.5
    assert large >= 8


def test_simulate_guidance_never_empty():
    tiny = np.zeros((128, 128), np.float32)
    tiny[60:63, 60:63] = 1.0  # erased by almost any erosion at 512²
    faint = np.zeros((64, 64), np.float32)
    faint[30:34, 30:34] = 0.005  # below every threshold
    for seed in range(30):
        assert simulate_guidance(tiny, np.random.default_rng(seed), 512).any()
        assert simulate_guidance(faint, np.random.default_rng(seed), 512).any()
    empty = simulate_guidance(np.zeros((16, 16), np.float32), np.random.default_rng(0), 512)
    assert _is_binary_f32(empty, (16, 16)) and not empty.any()


# -- noisy (validation) guidance ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["disk", "small", "line"])
def test_noisy_guidance_never_empty_and_not_the_paper_mask(kind):
    if kind == "disk":
        alpha = _soft_disk(160, 45)
    elif kind == "small":
        alpha = _disk(64, 2)
    else:
        alpha = np.zeros((64, 64), np.float32)
        alpha[30, 5:60] = 0.6
    target, paper = alpha >= 0.5, paper_guidance(alpha)
    different = 0
    for seed in range(25):
        mask = noisy_guidance(alpha, np.random.default_rng(seed))
        assert _is_binary_f32(mask, alpha.shape)
        assert mask.any()
        different += not np.array_equal(mask, paper)
        if kind == "disk":
            assert 0.5 < _iou(mask, target) < 1.0  # near the object, never exact
    assert different == 25


def test_noisy_guidance_has_the_listed_errors():
    """Over seeds: missing pieces inside, stray pixels outside, scale changes both ways."""
    alpha = _disk(200, 60)
    inside = alpha > 0
    holes, strays, areas = 0, 0, []
    for seed in range(20):
        mask = noisy_guidance(alpha, np.random.default_rng(seed)) > 0
        holes += bool((~mask & (cv2.erode(alpha, np.ones((15, 15))) > 0)).any())
        strays += bool((mask & (cv2.dilate(alpha, np.ones((15, 15))) == 0)).any())
        areas.append(mask.sum() / inside.sum())
    assert holes >= 15 and strays >= 5
    assert min(areas) < 0.95 and max(areas) > 1.05


def test_noisy_guidance_is_seeded_and_empty_for_empty_alpha():
    alpha = _soft_disk(96, 25)
    a = noisy_guidance(alpha, np.random.default_rng(3))
    np.testing.assert_array_equal(a, noisy_guidance(alpha, np.random.default_rng(3)))
    assert not np.array_equal(a, noisy_guidance(alpha, np.random.default_rng(4)))
    empty = noisy_guidance(np.zeros((20, 20), np.float32), np.random.default_rng(0))
    assert _is_binary_f32(empty, (20, 20)) and not empty.any()


# -- CutMask ------------------------------------------------------------------------------------


def test_cutmask_pastes_one_patch():
    rng = np.random.default_rng(0)
    mask = (rng.random((64, 48)) > 0.5).astype(np.float32)
    original = mask.copy()
    changed = 0
    for seed in range(20):
        out = cutmask(mask, np.random.default_rng(seed))
        np.testing.assert_array_equal(mask, original)  # the input is not modified
        assert out.shape == mask.shape and out.dtype == mask.dtype
        diff = np.argwhere(out != mask)
        if len(diff):
            changed += 1
            (y0, x0), (y1, x1) = diff.min(axis=0), diff.max(axis=0)
            assert y1 - y0 < 64 // 2 + 1 and x1 - x0 < 48 // 2 + 1  # inside one patch
    assert changed >= 18


def test_cutmask_copies_mask_content():
    """A patch of a mask with one square lands elsewhere: the result holds a copy of part of it."""
    mask = np.zeros((40, 40), np.float32)
    mask[5:15, 5:15] = 1
    seen_copy = False
    for seed in range(40):
        out = cutmask(mask, np.random.default_rng(seed))
        assert set(np.unique(out)) <= {0.0, 1.0}
        seen_copy |= bool((out[20:, 20:] > 0).any())
    assert seen_copy


def test_simulated_guidance_kernel_range_can_be_set_in_pixels():
    alpha = np.zeros((128, 128), np.float32)
    alpha[40:88, 40:88] = 1.0
    widest = 0
    for seed in range(40):
        mask = simulate_guidance(alpha, np.random.default_rng(seed), crop_size=128, kernel=(25, 25))
        grown = int(mask.sum() - alpha.sum())
        widest = max(widest, grown)
    # A 25-px ellipse dilation grows each side of the 48-px square by 12 px.
    assert widest >= (72 * 72 - 48 * 48) * 0.9


@pytest.mark.parametrize("centre", [(100, 100), (6, 6), (125, 60)])
def test_simulate_guidance_on_the_bounding_box_equals_whole_image_morphology(centre):
    # The morphology runs on the object's padded bounding box; at the image border and inside
    # it must give what the same operations on the whole image give.
    alpha = _soft_disk(128, 20) if centre == (100, 100) else _disk(128, 15, centre)
    ops = [[cv2.erode], [cv2.dilate], [cv2.erode, cv2.dilate], [cv2.dilate, cv2.erode]]
    for seed in range(12):
        ref_rng = np.random.default_rng(seed)  # the same draws, in the same order
        mask = (alpha >= ref_rng.uniform(0.01, 1.0)).astype(np.uint8)
        chosen = ops[ref_rng.integers(len(ops))]
        for op, size in [(op, ref_rng.integers(1, 30)) for op in chosen]:
            mask = op(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
        got = simulate_guidance(alpha, np.random.default_rng(seed), kernel=(1, 29))
        if mask.any():
            np.testing.assert_array_equal(got, mask.astype(np.float32))
