"""dtSSD and MESSDdt on hand-made clips with hand-computed values."""

import numpy as np
import pytest

from wildmatte.evaluation.temporal import dtssd, dtssd_per_frame, messddt, messddt_per_frame


def test_dtssd_by_hand():
    gt = np.stack([np.zeros((2, 2)), np.ones((2, 2))])
    pred = np.stack([np.zeros((2, 2)), np.array([[1.0, 1.0], [0.5, 0.0]])])
    # Δpred − Δgt = [0, 0, −0.5, −1]; mean of squares 1.25 / 4; sqrt × 100.
    assert dtssd(pred, gt) == pytest.approx(100 * np.sqrt(1.25 / 4))


def test_dtssd_ignores_a_steady_error_and_averages_frames():
    gt = np.stack([np.full((3, 3), v) for v in (0.0, 0.5, 0.5)])
    assert dtssd(np.clip(gt + 0.2, 0, 1), gt) == pytest.approx(0.0)
    pred = gt.copy()
    pred[2, 0, 0] = 0.8  # only the second step differs: (0.3² / 9) ** 0.5 × 100 = 10
    assert dtssd_per_frame(pred, gt) == pytest.approx([0.0, 10.0])
    assert dtssd(pred, gt) == pytest.approx(5.0)


def _moving_error():
    """1×3 clip: an error of 0.5 at column 1, then at column 2; the ground truth is empty."""
    gt = np.zeros((2, 1, 3))
    pred = np.array([[[0.0, 0.5, 0.0]], [[0.0, 0.0, 0.5]]])
    return pred, gt


def test_messddt_by_hand_with_and_without_motion():
    pred, gt = _moving_error()
    still = [np.zeros((1, 3, 2), np.float32)]
    # E0 = [0, .25, 0], E1 = [0, 0, .25]: |E1 − E0| = [0, .25, .25], mean / 3 × 1000.
    assert messddt(pred, gt, still) == pytest.approx(1000 * 0.5 / 3)
    # Moving right 1 px: frame 1's pixel p was at p − 1, so E1 − warped E0 = 0.
    right = [np.dstack([np.full((1, 3), -1.0), np.zeros((1, 3))]).astype(np.float32)]
    assert messddt_per_frame(pred, gt, right) == pytest.approx([0.0], abs=1e-6)
    assert dtssd(pred, gt) == pytest.approx(100 * np.sqrt(0.5 / 3))


def test_messddt_estimates_motion_from_the_ground_truth():
    # A still, empty 16×16 ground truth: no motion, so the error change counts in full.
    gt = np.zeros((2, 16, 16))
    pred = np.zeros((2, 16, 16))
    pred[0, 8, 7] = pred[1, 8, 8] = 0.5
    assert messddt(pred, gt) == pytest.approx(1000 * 0.5 / 256, rel=0.02)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="differ"):
        dtssd(np.zeros((2, 3, 3)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="T >= 2"):
        dtssd(np.zeros((1, 3, 3)), np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match="flows"):
        messddt(np.zeros((3, 2, 2)), np.zeros((3, 2, 2)), [np.zeros((2, 2, 2))])
