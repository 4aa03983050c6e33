import numpy as np
import pytest

from wildmatte.evaluation.metrics import (
    conn,
    evaluate,
    grad,
    interior_holes,
    mse,
    sad,
    sad_bg,
    sad_bg_by_distance,
    sad_fg,
)


def _random_alpha(seed: int = 0, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    alpha = np.zeros((size, size))
    alpha[8:24, 8:24] = 1.0
    alpha[6:26, 6:8] = rng.uniform(0, 1, (20, 2))
    return alpha


def test_perfect_prediction_scores_zero_everywhere():
    gt = _random_alpha()
    other = np.zeros_like(gt)
    other[0:10, 0:10] = 1
    scores = evaluate(gt.copy(), gt, occluded=[other])
    assert set(scores) == {"SAD", "MSE", "Grad", "Conn", "SAD_FG", "SAD_BG", "SAD_OCC", "Holes"}
    assert all(v == 0 for v in scores.values()), scores


def test_sad_and_mse_by_hand():
    gt = np.zeros((4, 4))
    pred = np.zeros((4, 4))
    pred[0, 0] = 0.5
    pred[1, 1] = 1.0
    assert sad(pred, gt) == pytest.approx(1.5 / 1000)
    assert mse(pred, gt) == pytest.approx((0.25 + 1.0) / 16)
    region = np.zeros((4, 4), bool)
    region[0, 0] = True
    assert sad(pred, gt, region) == pytest.approx(0.5 / 1000)
    assert mse(pred, gt, region) == pytest.approx(0.25)
    assert mse(pred, gt, np.zeros((4, 4), bool)) == 0.0


def test_sad_splits_into_fg_and_bg():
    gt = np.zeros((4, 4))
    gt[:2] = 1.0
    pred = np.full((4, 4), 0.25)
    assert sad_fg(pred, gt) == pytest.approx(8 * 0.75 / 1000)
    assert sad_bg(pred, gt) == pytest.approx(8 * 0.25 / 1000)
    assert sad_fg(pred, gt) + sad_bg(pred, gt) == pytest.approx(sad(pred, gt))


def test_background_error_splits_by_distance_from_the_mask():
    gt = np.zeros((1, 100))
    gt[0, :10] = 1.0  # the target: columns 0-9
    mask = np.zeros_like(gt)
    mask[0, :20] = 1  # the guidance reaches 10 px past it
    pred = np.zeros_like(gt)
    pred[0, 15] = 0.5  # inside the mask, on background
    pred[0, 24] = 0.25  # 5 px outside it
    pred[0, 39] = 1.0  # 20 px outside it: the upper edge belongs to the band
    pred[0, 99] = 0.5  # 80 px outside it
    split = sad_bg_by_distance(pred, gt, mask)
    assert split == pytest.approx(
        {"in mask": 0.5e-3, "0-8 px": 0.25e-3, "8-20 px": 1e-3, "20-50 px": 0, ">50 px": 0.5e-3}
    )
    assert sum(split.values()) == pytest.approx(sad_bg(pred, gt))
    empty = sad_bg_by_distance(pred, gt, np.zeros_like(gt), edges=(8,))
    assert empty == pytest.approx({"in mask": 0, "0-8 px": 0, ">8 px": sad_bg(pred, gt)})


def test_occluded_sad_counts_only_the_other_objects_area():
    gt = np.zeros((4, 4))
    gt[0, :] = 1
    occluder = np.zeros((4, 4))
    occluder[3, :] = 1
    pred = gt.copy()
    pred[3, :2] = 1.0  # picked up half of the occluded object
    pred[2, 0] = 0.5  # background error, not occluded
    scores = evaluate(pred, gt, occluded=[occluder])
    assert scores["SAD_OCC"] == pytest.approx(2 / 1000)
    assert scores["SAD_BG"] == pytest.approx(2.5 / 1000)


def test_grad_is_zero_for_a_constant_offset_and_positive_for_a_blur():
    gt = _random_alpha(1)
    assert grad(np.clip(gt, 0, 1) * 0 + gt, gt) == 0
    # A constant offset leaves the gradients unchanged.
    assert grad(gt + 0.1, gt) == pytest.approx(0, abs=1e-12)
    blurred = np.full_like(gt, gt.mean())
    assert grad(blurred, gt) > 0


def test_conn_by_hand_for_a_missing_blob():
    # GT: a single solid square; the prediction misses one pixel of it entirely.
    gt = np.zeros((5, 5))
    gt[1:4, 1:4] = 1.0
    pred = gt.copy()
    pred[2, 2] = 0.0
    # At the missing pixel the prediction is never >= any threshold t >= 0.1, so l = 0:
    # phi(pred) = 1 - 0 (d = 0 < 0.15) = 1; phi(gt) = 1 - 1 = 0 (d = 1). Other pixels agree.
    assert conn(pred, gt) == pytest.approx(1 / 1000)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in shape"):
        sad(np.zeros((2, 2)), np.zeros((3, 3)))


def _square(hole: bool = False) -> np.ndarray:
    """A 40×40 opaque square at [10:50) in a 60×60 image, optionally with a 10×10 true hole."""
    gt = np.zeros((60, 60))
    gt[10:50, 10:50] = 1.0
    if hole:
        gt[25:35, 25:35] = 0.0
    return gt


def test_interior_holes_by_hand_on_a_square():
    gt = _square()
    # Pixels more than 5 px inside: rows and columns 15..44 (a pixel on the edge is 1 px in).
    assert interior_holes(gt, gt) == 0.0
    pred = gt.copy()
    pred[25:35, 25:35] = 0.49  # a punched 10×10 hole, just below 0.5
    assert interior_holes(pred, gt) == pytest.approx(100 / 900)
    pred[25:35, 25:35] = 0.5  # 0.5 is kept, not a hole
    assert interior_holes(pred, gt) == 0.0
    pred = gt.copy()
    pred[10:50, 10:15] = 0.0  # a 5-px bite from the edge: boundary error, not a hole
    assert interior_holes(pred, gt) == 0.0
    pred[10:50, 15] = 0.0  # one column more reaches the interior: 30 px of it
    assert interior_holes(pred, gt) == pytest.approx(30 / 900)
    assert interior_holes(np.zeros_like(gt), gt) == 1.0


def test_interior_holes_ignore_true_holes():
    gt = _square(hole=True)
    # The interior loses the hole and every pixel within 5 px of it: a 20×20 square less 15
    # px at each corner (offsets (dx, dy) in 1..5 with dx² + dy² > 25): 900 − 360 = 540.
    assert interior_holes(gt, gt) == 0.0
    assert interior_holes(_square(), gt) == 0.0  # filling the hole is SAD's business
    pred = gt.copy()
    pred[22:38, 22:38] = 0.0  # the true hole 3 px wider all round: still outside the interior
    assert interior_holes(pred, gt) == 0.0
    pred = gt.copy()
    pred[15:17, 40:42] = 0.0  # a 2×2 hole punched in the ring's solid part
    assert interior_holes(pred, gt) == pytest.approx(4 / 540)


def test_interior_holes_need_an_opaque_interior():
    faint = _square() * 0.6  # a semi-transparent object has no opaque interior
    assert np.isnan(interior_holes(faint, faint))
    assert "Holes" not in evaluate(faint, faint)
    assert evaluate(_square(), _square())["Holes"] == 0.0
