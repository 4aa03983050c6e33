"""Geometric and colour augmentation helpers (wildmatte.data.augment)."""

import numpy as np

from wildmatte.data import augment


def _layer(seed=0, h=30, w=40):
    rng = np.random.default_rng(seed)
    fg = rng.random((h, w, 3), dtype=np.float32)
    alpha = np.zeros((h, w), np.float32)
    alpha[8:22, 10:30] = 1
    alpha[8:22, 9] = 0.5
    return fg, alpha


def test_snap_alpha():
    a = np.array([0.0, 5e-4, 0.2, 0.9995, 1.0], np.float32)
    out = augment.snap_alpha(a)
    assert out is a
    np.testing.assert_array_equal(a, np.float32([0, 0, 0.2, 1, 1]))


def test_identity_warp_keeps_the_layer():
    fg, alpha = _layer()
    out_fg, out_alpha = augment.warp(fg, alpha, np.eye(3), (40, 30))
    np.testing.assert_allclose(out_fg, fg, atol=1e-6)
    np.testing.assert_allclose(out_alpha, alpha, atol=1e-6)
    planes = augment.warp_planes(augment.pack_rgba(fg, alpha), np.eye(3), (40, 30))
    assert planes.shape == (4, 30, 40) and planes.flags.c_contiguous
    np.testing.assert_allclose(planes[:3], fg.transpose(2, 0, 1), atol=1e-6)
    np.testing.assert_allclose(planes[3], alpha, atol=1e-6)


def test_translation_moves_the_layer_and_outside_is_transparent():
    fg, alpha = _layer()
    out_fg, out_alpha = augment.warp(fg, alpha, augment.translation(5, -3), (40, 30))
    np.testing.assert_allclose(out_alpha[:27, 5:], alpha[3:, :35], atol=1e-6)
    assert not out_alpha[:, :5].any() and not out_alpha[27:].any()  # uncovered: α = 0
    np.testing.assert_allclose(out_fg[:27, 5:], fg[3:, :35], atol=1e-6)
    # A shrinking warp (area-averaged first) keeps alpha in [0, 1] with exact 0 and 1.
    small_fg, small_alpha = augment.warp(fg, alpha, augment.scaling(0.25), (40, 30))
    assert small_alpha.min() == 0 and small_alpha.max() <= 1 and small_alpha.max() > 0.5
    assert small_fg.shape == (30, 40, 3)


def test_random_affine_fixes_its_centre_and_is_seeded():
    centre = (12.0, 7.0)
    m = augment.random_affine(np.random.default_rng(0), centre=centre)
    np.testing.assert_allclose(augment.apply_point(m, np.array(centre)), centre, atol=1e-9)
    np.testing.assert_array_equal(m, augment.random_affine(np.random.default_rng(0), centre))
    dets = [
        np.linalg.det(augment.random_affine(np.random.default_rng(s))[:2, :2]) for s in range(40)
    ]
    assert min(dets) < 0 < max(dets)  # flipped sometimes
    assert all(0.8**2 * 0.9 < abs(d) < 1.25**2 * 1.1 for d in dets)  # scale range


def test_crop_matrix_centres_the_point():
    m = augment.crop_matrix(np.array([30.0, 40.0]), 64)
    np.testing.assert_allclose(augment.apply_point(m, np.array([30.0, 40.0])), [32, 32])


def test_crop_at_transition_and_resize():
    fg, alpha = _layer()
    out_fg, out_alpha = augment.crop_at_transition(fg, alpha, np.random.default_rng(0), 16)
    assert out_fg.shape == (16, 16, 3) and out_alpha.shape == (16, 16)
    assert 0 < out_alpha[8, 8] < 1  # the only soft column lands in the middle
    rfg, ralpha = augment.random_resize(fg, alpha, np.random.default_rng(1))
    assert rfg.shape[:2] == ralpha.shape and ralpha.max() == 1


def test_transition_and_object_points():
    _, alpha = _layer()
    points = augment.transition_points(alpha)
    assert set(points[:, 0]) == {9} and len(points) == 14  # (x, y) of the 0.5 column
    hard = (alpha == 1).astype(np.float32)
    assert len(augment.transition_points(hard)) == len(augment.object_points(hard)) == 14 * 20
    np.testing.assert_array_equal(augment.object_points(np.zeros((4, 6))), [[3, 2]])
    assert len(augment.object_points(np.ones((100, 100)), max_points=500)) <= 1000


def test_points_are_every_kth_pixel_in_row_major_order():
    # Searched within the bounding box, they must be the points of the whole image.
    alpha = np.zeros((90, 120), np.float32)
    alpha[30:70, 50:110] = np.linspace(0.0, 1.0, 60)[None]
    for max_points in (4096, 100, 7):
        for points, region in (
            (augment.object_points(alpha, max_points), alpha > 0),
            (augment.transition_points(alpha, max_points), (alpha > 0) & (alpha < 1)),
        ):
            ys, xs = np.nonzero(region)
            step = max(1, len(xs) // max_points)
            np.testing.assert_array_equal(points, np.stack([xs[::step], ys[::step]], axis=1))


def test_color_matrix():
    np.testing.assert_allclose(augment.color_matrix(0, 1, 1), np.eye(3), atol=1e-12)
    grey = np.full(3, 0.4)
    for hue in (0.1, 0.33, 0.5):  # a hue rotation leaves greys alone
        np.testing.assert_allclose(augment.color_matrix(hue, 1, 1) @ grey, grey, atol=1e-12)
    np.testing.assert_allclose(augment.color_matrix(1.0, 1, 1), np.eye(3), atol=1e-12)
    desaturated = augment.color_matrix(0, 0, 1) @ np.array([0.9, 0.3, 0.0])
    np.testing.assert_allclose(desaturated, 0.4, atol=1e-12)
    np.testing.assert_allclose(augment.color_matrix(0, 1, 0.5) @ grey, 0.2, atol=1e-12)
    fg, _ = _layer()
    jittered = augment.color_jitter(fg, np.random.default_rng(0))
    assert jittered.shape == fg.shape and jittered.min() >= 0 and jittered.max() <= 1
    assert not np.allclose(jittered, fg)


def test_extend_colours_fills_only_transparent_pixels():
    fg, alpha = _layer()
    fg[alpha == 0] = 0  # junk colour where nothing is visible
    fg[alpha > 0] = [0.2, 0.6, 0.9]
    out = augment.extend_colours(fg, alpha)
    np.testing.assert_array_equal(out[alpha > 0], fg[alpha > 0])
    np.testing.assert_allclose(
        out[alpha == 0], np.tile([0.2, 0.6, 0.9], ((alpha == 0).sum(), 1)), atol=1e-4
    )
    assert augment.extend_colours(fg, np.zeros_like(alpha)) is fg


def test_pack_rgba_border():
    rng = np.random.default_rng(1)
    fg, alpha = rng.random((5, 4, 3), dtype=np.float32), rng.random((5, 4), dtype=np.float32)
    rgba = augment.pack_rgba(fg, alpha)
    assert rgba.shape == (7, 6, 4) and rgba.dtype == np.float32
    np.testing.assert_array_equal(rgba[1:-1, 1:-1, :3], fg)
    np.testing.assert_array_equal(rgba[1:-1, 1:-1, 3], alpha)
    # The colour repeats its edge (corners included); alpha is 0 all round.
    np.testing.assert_array_equal(rgba[..., :3], np.pad(fg, ((1, 1), (1, 1), (0, 0)), "edge"))
    assert not rgba[[0, -1], :, 3].any() and not rgba[:, [0, -1], 3].any()


def test_warp_planes_with_colour_matrix():
    fg, alpha = _layer(seed=3)
    rgba = augment.pack_rgba(fg, alpha)
    m = augment.random_affine(np.random.default_rng(2), centre=(20, 15))
    colour = augment.color_matrix(0.05, 1.3, 1.2).astype(np.float32)
    plain = augment.warp_planes(rgba, m, (40, 30))
    tinted = augment.warp_planes(rgba, m, (40, 30), colour=colour)
    expected = np.clip(np.einsum("ij,jhw->ihw", colour, plain[:3]), 0, 1)
    np.testing.assert_allclose(tinted[:3], expected, atol=1e-6)
    np.testing.assert_array_equal(tinted[3], plain[3])  # alpha passes through exactly
    assert tinted.flags.c_contiguous and tinted.dtype == np.float32


def _detail(planes):
    """Mean absolute Laplacian: how much fine detail C×H×W planes hold."""
    import cv2

    return float(np.mean([np.abs(cv2.Laplacian(p, cv2.CV_32F)).mean() for p in planes]))


def test_sharpen_adds_detail_keeping_shape_and_range():
    planes = np.random.default_rng(0).random((3, 48, 64), dtype=np.float32)
    sharp = augment.sharpen(planes * 0.5 + 0.25, 1.0, 1.0)
    assert sharp.shape == planes.shape
    assert _detail(sharp) > _detail(planes * 0.5 + 0.25)
    assert sharp.min() >= 0 and sharp.max() <= 1
    flat = np.full((3, 20, 20), 0.4, np.float32)  # nothing to sharpen
    np.testing.assert_allclose(augment.sharpen(flat, 1.5, 1.0), flat, atol=1e-6)


def test_match_sharpness_touches_nothing_at_p0_and_every_layer_alike_at_p1():
    rng = np.random.default_rng(1)
    fgs = [rng.random((3, 32, 32), dtype=np.float32) * 0.5 + 0.25 for _ in range(2)]
    bg = fgs[0].copy()
    same_fgs, same_bg = augment.match_sharpness(fgs, bg, np.random.default_rng(2), 0.0)
    assert same_bg is bg and all(a is b for a, b in zip(same_fgs, fgs))
    new_fgs, new_bg = augment.match_sharpness(fgs, bg, np.random.default_rng(2), 1.0)
    assert all(n.dtype == np.float32 and _detail(n) > _detail(f) for n, f in zip(new_fgs, fgs))
    assert _detail(new_bg) > _detail(bg)
    # the same layer gets the same sharpening (only the grain differs): no object/background cue
    assert abs(_detail(new_bg) - _detail(new_fgs[0])) < 0.1 * _detail(new_bg)
