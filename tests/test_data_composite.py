"""Composition identities of wildmatte.data.composite (paper Eq. 1 and Eq. 2)."""

import numpy as np
import pytest

from wildmatte.data.composite import (
    composite,
    effective_background,
    layer,
    merge_alphas,
    merge_foregrounds,
    recalibrate,
)


def _rand(rng, *shape):
    return rng.random(shape, dtype=np.float32)


def _alpha(rng, *shape):
    """Random alpha with exact 0s and 1s as well as soft values."""
    a = rng.random(shape, dtype=np.float32) * 1.4 - 0.2
    return np.clip(a, 0.0, 1.0)


def test_composite_hand_computed_pixel():
    fg = np.array([[[1.0, 0.5, 0.0]]], np.float32)
    bg = np.array([[[0.0, 0.5, 1.0]]], np.float32)
    alpha = np.array([[0.25]], np.float32)
    out = composite(fg, alpha, bg)
    assert out.shape == (1, 1, 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], [0.25, 0.5, 0.75], atol=1e-7)


@pytest.mark.parametrize("channels_first", [False, True])
def test_composite_is_eq1(channels_first):
    rng = np.random.default_rng(0)
    fg, bg, alpha = _rand(rng, 9, 7, 3), _rand(rng, 9, 7, 3), _alpha(rng, 9, 7)
    expected = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    if channels_first:
        out = composite(fg.transpose(2, 0, 1), alpha[None], bg.transpose(2, 0, 1))
        out = out.transpose(1, 2, 0)
    else:
        out = composite(fg, alpha, bg)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # Opaque pixels show the foreground, transparent ones the background, exactly.
    np.testing.assert_array_equal(out[alpha == 1], fg[alpha == 1])
    np.testing.assert_array_equal(out[alpha == 0], bg[alpha == 0])


def test_recalibrate_two_layers_hand_computed():
    a1 = np.array([[0.0, 0.5, 1.0, 0.2]], np.float32)
    a2 = np.array([[0.6, 0.5, 1.0, 0.0]], np.float32)
    bar1, bar2 = recalibrate([a1, a2])
    np.testing.assert_array_equal(bar1, a1)  # ᾱ1 = α1
    np.testing.assert_allclose(bar2, [[0.6, 0.25, 0.0, 0.0]], atol=1e-7)  # ᾱ2 = α2(1 − α1)
    assert bar1.dtype == bar2.dtype == np.float32


@pytest.mark.parametrize("n", [1, 2, 3])
def test_recalibrated_alphas_and_background_weight_sum_to_one(n):
    rng = np.random.default_rng(n)
    alphas = [_alpha(rng, 16, 16) for _ in range(n)]
    bars = recalibrate(alphas)
    background = np.prod([1 - a for a in alphas], axis=0)
    np.testing.assert_allclose(sum(bars) + background, 1.0, atol=1e-6)
    for k, bar in enumerate(bars):  # ᾱk = αk Π_{j<k}(1 − αj), all in [0, 1]
        expected = alphas[k] * np.prod([1 - a for a in alphas[:k]], axis=0)
        np.testing.assert_allclose(bar, expected, atol=1e-6)
        assert bar.min() >= 0 and bar.max() <= 1
    # The input alphas are left untouched.
    assert all(a.dtype == np.float32 for a in alphas)


@pytest.mark.parametrize("channels_first", [False, True])
def test_layer_reproduces_eq2(channels_first):
    rng = np.random.default_rng(1)
    f1, f2, b = (_rand(rng, 12, 10, 3) for _ in range(3))
    a1, a2 = _alpha(rng, 12, 10), _alpha(rng, 12, 10)
    e = lambda a: a[..., None]  # noqa: E731
    expected = e(a1) * f1 + e(a2 * (1 - a1)) * f2 + e((1 - a1) * (1 - a2)) * b
    if channels_first:
        t = lambda x: x.transpose(2, 0, 1)  # noqa: E731
        image, bars = layer([t(f1), t(f2)], [a1[None], a2[None]], t(b))
        image, bars = image.transpose(1, 2, 0), [bar[0] for bar in bars]
    else:
        image, bars = layer([f1, f2], [a1, a2], b)
    np.testing.assert_allclose(image, expected, atol=1e-6)
    np.testing.assert_allclose(bars[0], a1, atol=0)
    np.testing.assert_allclose(bars[1], a2 * (1 - a1), atol=1e-7)
    assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1 + 1e-6


def test_layer_front_layer_occludes():
    """Where the front layer is opaque the image is its colour, whatever lies behind."""
    rng = np.random.default_rng(2)
    f1, f2, b = (_rand(rng, 8, 8, 3) for _ in range(3))
    a1 = np.zeros((8, 8), np.float32)
    a1[:, :4] = 1
    a2 = np.ones((8, 8), np.float32)
    image, bars = layer([f1, f2], [a1, a2], b)
    np.testing.assert_array_equal(image[:, :4], f1[:, :4])
    np.testing.assert_array_equal(image[:, 4:], f2[:, 4:])
    np.testing.assert_array_equal(bars[1][:, :4], 0)


def test_layer_with_one_layer_is_composite():
    rng = np.random.default_rng(3)
    f, b, a = _rand(rng, 6, 5, 3), _rand(rng, 6, 5, 3), _alpha(rng, 6, 5)
    image, bars = layer([f], [a], b)
    np.testing.assert_allclose(image, composite(f, a, b), atol=1e-6)
    np.testing.assert_array_equal(bars[0], a)


@pytest.mark.parametrize("target", [0, 1])
def test_effective_background_reproduces_the_image(target):
    rng = np.random.default_rng(4 + target)
    fgs = [_rand(rng, 3, 20, 20) for _ in range(2)]
    alphas = [_alpha(rng, 1, 20, 20) for _ in range(2)]
    b = _rand(rng, 3, 20, 20)
    image, bars = layer(fgs, alphas, b)
    bar, fg = bars[target], fgs[target]
    bg_eff = effective_background(image, fg, bar)
    assert bg_eff.shape == b.shape and bg_eff.dtype == np.float32
    assert bg_eff.min() >= 0 and bg_eff.max() <= 1
    np.testing.assert_allclose(bar * fg + (1 - bar) * bg_eff, image, atol=1e-5)
    # The effective background is the composite of everything but the target (true colours).
    if target == 0:
        behind = alphas[1] * fgs[1] + (1 - alphas[1]) * b
        visible = bar[0] < 1
        np.testing.assert_allclose(bg_eff[:, visible], behind[:, visible], atol=1e-4)
    else:
        rest = alphas[0] + (1 - alphas[0]) * (1 - alphas[1])
        visible = rest[0] > 1e-3
        behind = (alphas[0] * fgs[0] + (1 - alphas[0]) * (1 - alphas[1]) * b) / np.maximum(
            rest, 1e-3
        )
        np.testing.assert_allclose(bg_eff[:, visible], behind[:, visible], atol=1e-3)


def test_effective_background_opaque_target_uses_fg():
    fg = np.full((4, 4, 3), 0.3, np.float32)
    image = np.full((4, 4, 3), 0.3, np.float32)
    alpha = np.ones((4, 4), np.float32)
    np.testing.assert_array_equal(effective_background(image, fg, alpha), fg)


def test_effective_background_near_opaque_target_stays_bounded():
    """1 − ᾱ below 1e-4: bg_eff falls back to fg; the identity still holds to 1e-4."""
    rng = np.random.default_rng(5)
    f, b = _rand(rng, 3, 8, 8), _rand(rng, 3, 8, 8)
    a = np.full((1, 8, 8), 1 - 3e-5, np.float32)
    a[:, :4] = np.float32(1 - 2e-4)
    image = composite(f, a, b)
    bg_eff = effective_background(image, f, a)
    assert np.isfinite(bg_eff).all() and bg_eff.min() >= 0 and bg_eff.max() <= 1
    np.testing.assert_allclose(a * f + (1 - a) * bg_eff, image, atol=1e-4)
    np.testing.assert_array_equal(bg_eff[:, 4:], f[:, 4:])


def test_effective_background_single_layer_is_the_background():
    rng = np.random.default_rng(6)
    f, b = _rand(rng, 10, 10, 3), _rand(rng, 10, 10, 3)
    a = _alpha(rng, 10, 10)
    bg_eff = effective_background(composite(f, a, b), f, a)
    visible = a < 1 - 1e-3
    np.testing.assert_allclose(bg_eff[visible], b[visible], atol=1e-3)


def test_merge_alphas_is_the_union():
    a1 = np.array([[0.0, 0.5, 1.0, 0.2]], np.float32)
    a2 = np.array([[0.6, 0.5, 0.0, 0.0]], np.float32)
    np.testing.assert_allclose(merge_alphas([a1, a2]), [[0.6, 0.75, 1.0, 0.2]], atol=1e-7)
    rng = np.random.default_rng(7)
    a1, a2 = _alpha(rng, 9, 9), _alpha(rng, 9, 9)
    merged = merge_alphas([a1, a2])
    assert merged.dtype == np.float32
    np.testing.assert_allclose(merged, 1 - (1 - a1) * (1 - a2), atol=1e-6)
    np.testing.assert_allclose(merged, sum(recalibrate([a1, a2])), atol=1e-6)
    assert (merged >= np.maximum(a1, a2) - 1e-7).all()


def test_merge_foregrounds_reproduces_the_image():
    rng = np.random.default_rng(8)
    fgs = [_rand(rng, 3, 14, 14) for _ in range(2)]
    alphas = [_alpha(rng, 1, 14, 14) for _ in range(2)]
    alphas[0][:, :, :3] = 0  # nothing visible there
    alphas[1][:, :, :3] = 0
    b = _rand(rng, 3, 14, 14)
    image, bars = layer(fgs, alphas, b)
    merged = merge_alphas(alphas)
    fg = merge_foregrounds(fgs, bars)
    assert fg.shape == b.shape and fg.min() >= 0 and fg.max() <= 1
    np.testing.assert_allclose(merged * fg + (1 - merged) * b, image, atol=1e-5)
    # Where no layer is visible the front layer's colour fills in.
    np.testing.assert_array_equal(fg[:, :, :3], fgs[0][:, :, :3])
    # Where only the front layer is visible its colour is kept.
    only_front = (alphas[0][0] == 1) | ((bars[1][0] == 0) & (alphas[0][0] > 0))
    np.testing.assert_allclose(fg[:, only_front], fgs[0][:, only_front], atol=1e-6)
