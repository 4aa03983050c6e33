"""Partial-opacity layers and the guidance a person would draw for them."""

import numpy as np

from wildmatte.data import opacity
from wildmatte.data.backgrounds import ImageFolder
from wildmatte.data.dataset import CompositeDataset
from wildmatte.data.foregrounds import RGBAFolder


def _disc(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size]
    alpha = ((ys - size / 2) ** 2 + (xs - size / 2) ** 2 < (size / 3) ** 2).astype(np.float32)
    fg = np.stack([np.full((size, size), c, np.float32) for c in (0.9, 0.2, 0.1)])
    return fg, alpha[None]


def test_uniform_scales_the_whole_object_by_one_factor():
    _, alpha = _disc()
    out = opacity.uniform(alpha, np.random.default_rng(0))
    inside = alpha > 0
    factor = out[inside] / alpha[inside]
    assert np.allclose(factor, factor[0]) and 0.15 <= factor[0] <= 0.85
    assert (out[~inside] == 0).all()


def test_graded_ramps_between_two_levels_inside_the_object():
    _, alpha = _disc()
    out = opacity.graded(alpha, np.random.default_rng(3))
    inside = out[alpha > 0]
    assert inside.min() < inside.max() - 0.05  # a ramp, not one level
    assert inside.max() <= 1.0 and inside.min() >= 0.0


def test_motion_blur_keeps_the_alpha_mass_and_softens_the_edge():
    fg, alpha = _disc()
    colour, blurred = opacity.motion(fg, alpha, np.random.default_rng(1))
    assert abs(blurred.sum() - alpha.sum()) / alpha.sum() < 0.05
    soft = ((blurred > 0.02) & (blurred < 0.98)).sum()
    assert soft > ((alpha > 0.02) & (alpha < 0.98)).sum()
    assert np.allclose(colour[:, blurred[0] > 0.5], fg[:, :1, :1].reshape(3, 1), atol=1e-3)


def test_coverage_includes_faint_parts():
    alpha = np.array([[0.0, 0.04, 0.1, 0.3]], np.float32)
    assert opacity.coverage(alpha).tolist() == [[0, 0, 1, 1]]


def test_partial_targets_get_guidance_covering_them(tiny_data):
    dataset = CompositeDataset(
        [RGBAFolder(tiny_data["fg"])],
        ImageFolder(tiny_data["bg"]),
        crop_size=64,
        partial_ratio=1.0,
        guidance="paper",
    )
    below_half = 0
    for i in range(12):
        s = dataset.sample(i)
        assert "partial" in s["names"]
        alpha, guide = s["alpha"][0], s["guidance"][0]
        assert guide[alpha > 0.2].mean() > 0.95  # the mask covers the see-through object
        below_half += int(alpha.max() < 0.5)
        assert np.allclose(s["image"], s["alpha"] * s["fg"] + (1 - s["alpha"]) * s["bg"], atol=1e-4)
    assert below_half >= 1  # some targets are below one half everywhere


def test_partial_opacity_is_off_by_default(tiny_data):
    dataset = CompositeDataset(
        [RGBAFolder(tiny_data["fg"])], ImageFolder(tiny_data["bg"]), crop_size=64
    )
    assert not any("partial" in dataset.sample(i)["names"] for i in range(8))


def test_sharpness_matching_keeps_the_composite_exact_and_is_off_by_default(tiny_data):
    sets = [RGBAFolder(tiny_data["fg"])], ImageFolder(tiny_data["bg"])
    plain = CompositeDataset(*sets, crop_size=64)
    matched = CompositeDataset(*sets, crop_size=64, sharpness_match=1.0)
    changed = 0
    for i in range(6):
        a, s = plain.sample(i), matched.sample(i)
        assert np.allclose(s["image"], s["alpha"] * s["fg"] + (1 - s["alpha"]) * s["bg"], atol=1e-4)
        changed += int(not np.array_equal(a["image"], s["image"]))
    assert changed == 6
    assert np.array_equal(
        plain.sample(3)["image"], CompositeDataset(*sets, crop_size=64).sample(3)["image"]
    )


def test_camouflage_paints_background_colour_inside_the_core_only():
    fg, alpha = _disc(96)
    bg = np.random.default_rng(1).random((3, 96, 96), dtype=np.float32)
    painted = 0
    for seed in range(6):
        out = opacity.camouflage(fg, alpha, bg, np.random.default_rng(seed))
        assert out.shape == fg.shape and out.dtype == np.float32
        changed = np.abs(out - fg).max(axis=0) > 1e-6
        assert not changed[alpha[0] < 1].any()  # never at the edge, never outside
        painted += changed.mean() > 0.005
    assert painted == 6
    tiny = np.zeros_like(alpha)
    tiny[0, 40:44, 40:44] = 1  # no core worth painting: unchanged
    assert np.array_equal(opacity.camouflage(fg, tiny, bg, np.random.default_rng(0)), fg)


def test_attachment_paints_a_small_distinct_part_inside_the_core_only():
    fg, alpha = _disc(96)
    other = np.zeros((3, 96, 96), np.float32)
    other[2] = 1.0  # blue, unlike the red disc
    sizes = []
    for seed in range(6):
        out = opacity.attachment(fg, alpha, other, np.random.default_rng(seed))
        changed = np.abs(out - fg).max(axis=0) > 1e-6
        assert not changed[alpha[0] < 1].any()
        sizes.append(changed.sum() / (alpha[0] == 1).sum())
    assert 0 < min(sizes) and max(sizes) < 0.3  # a part, not the object


def test_camouflage_and_attachment_in_samples_keep_the_composite_exact(tiny_data):
    sets = [RGBAFolder(tiny_data["fg"])], ImageFolder(tiny_data["bg"])
    plain = CompositeDataset(*sets, crop_size=64)
    camo = CompositeDataset(*sets, crop_size=64, camouflage=1.0)
    attached = CompositeDataset(*sets, crop_size=64, attach=1.0)
    for i in range(6):
        s = attached.sample(i)
        assert np.allclose(s["image"], s["alpha"] * s["fg"] + (1 - s["alpha"]) * s["bg"], atol=1e-4)
    changed = 0
    for i in range(6):
        a, s = plain.sample(i), camo.sample(i)
        assert np.allclose(s["image"], s["alpha"] * s["fg"] + (1 - s["alpha"]) * s["bg"], atol=1e-4)
        changed += int(not np.array_equal(a["image"], s["image"]))
    assert changed >= 3
    # Off by default: a config without it keeps its samples.
    again = CompositeDataset(*sets, crop_size=64, camouflage=0.0)
    assert np.array_equal(plain.sample(2)["image"], again.sample(2)["image"])


def test_single_mode_composites_the_see_through_target(tiny_data):
    sets = [RGBAFolder(tiny_data["fg"])], ImageFolder(tiny_data["bg"])
    plain = CompositeDataset(*sets, crop_size=64, mode="single")
    partial = CompositeDataset(*sets, crop_size=64, mode="single", partial_ratio=1.0)
    for i in range(4):
        a, s = plain.sample(i), partial.sample(i)
        assert s["alpha"].max() < a["alpha"].max() or not np.array_equal(s["alpha"], a["alpha"])
        assert np.allclose(s["image"], s["alpha"] * s["fg"] + (1 - s["alpha"]) * s["bg"], atol=1e-5)
