"""CompositeDataset: training samples composited on the fly (wildmatte.data.dataset)."""

import numpy as np
import pytest
import torch

import wildmatte.data.dataset as ds_module
from wildmatte.data.backgrounds import ImageFolder
from wildmatte.data.composite import merge_alphas
from wildmatte.data.dataset import (
    GUIDANCE,
    MODES,
    CompositeDataset,
    build_train_dataset,
    build_val_set,
    to_tensors,
)
from wildmatte.data.foregrounds import RGBAFolder
from wildmatte.data.guidance import paper_guidance
from wildmatte.data.procedural import ProceduralForegrounds
from wildmatte.data.split import train_val_split

S = 64  # crop size: small keeps the tests fast
KEYS = ("image", "guidance", "alpha", "fg", "bg")


@pytest.fixture
def sets(tiny_data):
    return RGBAFolder(tiny_data["fg"]), ImageFolder(tiny_data["bg"])


def _dataset(sets, **kwargs) -> CompositeDataset:
    fg, bg = sets
    kwargs.setdefault("crop_size", S)
    kwargs.setdefault("length", 40)
    return CompositeDataset([fg], bg, **kwargs)


def _check_sample(s: dict, size: int = S) -> None:
    for key, channels in (("image", 3), ("fg", 3), ("bg", 3), ("alpha", 1), ("guidance", 1)):
        assert s[key].shape == (channels, size, size), key
        assert s[key].dtype == np.float32, key
        assert np.isfinite(s[key]).all(), key
        assert s[key].min() >= 0 and s[key].max() <= 1 + 1e-6, key
    assert set(np.unique(s["guidance"])) <= {0.0, 1.0}
    assert s["alpha"].any()
    # Every sample is a plain composite of its target: the composition loss relies on it.
    a = s["alpha"]
    np.testing.assert_allclose(s["image"], a * s["fg"] + (1 - a) * s["bg"], atol=1e-5)


@pytest.mark.parametrize("guidance", GUIDANCE)
@pytest.mark.parametrize("mode", MODES)
def test_samples_are_composites(sets, mode, guidance):
    dataset = _dataset(sets, mode=mode, guidance=guidance, seed=1)
    soft = 0
    for i in range(6):
        s = dataset.sample(i)
        _check_sample(s)
        soft += bool(((s["alpha"] > 0) & (s["alpha"] < 1)).any())
        if guidance == "paper":
            np.testing.assert_array_equal(s["guidance"][0], paper_guidance(s["alpha"][0]))
    assert soft >= 5
    item = dataset[0]
    assert set(item) == set(KEYS)
    for key in KEYS:
        assert item[key].dtype == torch.float32 and item[key].is_contiguous()
        np.testing.assert_array_equal(item[key].numpy(), dataset.sample(0)[key])


@pytest.mark.parametrize("mode", MODES)
def test_reproducible_by_index(sets, mode):
    fg, bg = sets
    a = _dataset(sets, mode=mode, seed=7, cutmask=True)
    first = {i: a.sample(i) for i in (3, 0, 5)}
    # A fresh dataset over freshly opened sets, visited in another order, gives the same items.
    b = CompositeDataset(
        [RGBAFolder(fg.root)], ImageFolder(bg.root), crop_size=S, mode=mode, seed=7, cutmask=True
    )
    for i in (5, 1, 3, 0):
        s = b.sample(i)
        if i in first:
            for key in KEYS:
                np.testing.assert_array_equal(s[key], first[i][key], err_msg=key)
            assert s["names"] == first[i]["names"]
    assert b.sample(3)["names"] == first[3]["names"]  # and again from a warm cache
    np.testing.assert_array_equal(b.sample(3)["image"], first[3]["image"])
    # Another seed or another index: another sample.
    other = _dataset(sets, mode=mode, seed=8, cutmask=True).sample(3)
    assert not np.array_equal(other["image"], first[3]["image"])
    assert not np.array_equal(a.sample(4)["image"], first[3]["image"])


def test_reproducible_with_procedural_foregrounds(sets):
    fg, bg = sets

    def make():
        bgs = ImageFolder(bg.root)
        proc = ProceduralForegrounds(bgs, size=S, seed=2, length=30)
        return CompositeDataset(
            [RGBAFolder(fg.root)], bgs, crop_size=S, procedural=proc, procedural_ratio=0.5, seed=2
        )

    a, b = make(), make()
    names = []
    for i in range(8):
        s, t = a.sample(i), b.sample(i)
        _check_sample(s)
        for key in KEYS:
            np.testing.assert_array_equal(s[key], t[key])
        names += s["names"]
    assert any(n.startswith("procedural-") for n in names)
    assert any(n.endswith(".png") for n in names)


def test_procedural_only(sets):
    _, bg = sets
    proc = ProceduralForegrounds(bg, size=S, seed=0, length=10)
    dataset = CompositeDataset([], bg, crop_size=S, procedural=proc, length=5)
    assert dataset.procedural_ratio == 1.0
    for i in range(3):
        s = dataset.sample(i)
        _check_sample(s)
        assert all(n.startswith("procedural-") for n in s["names"][:2])


def _record_layers(monkeypatch) -> list:
    """Capture every call of dataset.layer: (fgs, alphas, bg, image, bars)."""
    calls = []
    real = ds_module.layer

    def spy(fgs, alphas, bg):
        image, bars = real(fgs, alphas, bg)
        calls.append((fgs, alphas, bg, image, bars))
        return image, bars

    monkeypatch.setattr(ds_module, "layer", spy)
    return calls


def test_instance_wise_targets_front_and_back(sets, monkeypatch):
    calls = _record_layers(monkeypatch)
    dataset = _dataset(sets, mode="instance-wise", seed=3)
    targets, occluded, both = [], 0, 0
    for i in range(24):
        calls.clear()
        s = dataset.sample(i)
        fgs, alphas, bg, image, bars = calls[-1]
        t = int(s["names"][-1].removeprefix("target="))
        targets.append(t)
        assert len(s["names"]) == 3 and len(fgs) == 2
        np.testing.assert_array_equal(s["image"], image)
        np.testing.assert_array_equal(s["fg"], fgs[t])
        # The target is the re-calibrated alpha of its layer: ᾱ1 = α1, ᾱ2 = α2(1 − α1).
        expected = alphas[0] if t == 0 else alphas[1] * (1 - alphas[0])
        np.testing.assert_allclose(s["alpha"], expected, atol=1e-6)
        np.testing.assert_allclose(
            bars[0] + bars[1] + (1 - alphas[0]) * (1 - alphas[1]), 1, atol=1e-6
        )
        occluded += t == 1 and bool((s["alpha"] < alphas[1] - 1e-3).any())
        # The other layer stays in the GT background with its true colours and alpha.
        other = 1 - t
        clear = s["alpha"][0] == 0
        np.testing.assert_allclose(s["bg"][:, clear], image[:, clear], atol=1e-6)
        if t == 0:
            behind = alphas[1] * fgs[1] + (1 - alphas[1]) * bg
            seen = s["alpha"][0] < 1
            np.testing.assert_allclose(s["bg"][:, seen], behind[:, seen], atol=1e-4)
        both += bool((alphas[other] > 0).any())
    assert both >= 20  # two objects in the crop (the second one can fall off its edge)
    assert 0 < targets.count(1) < len(targets)  # sometimes the front, sometimes the back
    assert occluded >= 1  # and the back target really is partly hidden


def test_merge_mode_targets_the_union(sets, monkeypatch):
    calls = _record_layers(monkeypatch)
    dataset = _dataset(sets, mode="merge", seed=4)
    for i in range(8):
        calls.clear()
        s = dataset.sample(i)
        fgs, alphas, bg, image, bars = calls[-1]
        np.testing.assert_allclose(s["alpha"], merge_alphas(alphas), atol=1e-6)
        np.testing.assert_allclose(s["alpha"], 1 - (1 - alphas[0]) * (1 - alphas[1]), atol=1e-6)
        np.testing.assert_array_equal(s["bg"], bg)  # the real background
        np.testing.assert_array_equal(s["image"], image)
        assert len(s["names"]) == 2


def test_single_mode_is_one_layer(sets, monkeypatch):
    calls = _record_layers(monkeypatch)
    dataset = _dataset(sets, mode="single", seed=5)
    for i in range(6):
        s = dataset.sample(i)
        assert len(s["names"]) == 1
    assert not calls  # no layering in single mode


def test_crops_centred_on_the_transition_region(sets):
    dataset = _dataset(sets, mode="single", seed=6, crop_size=96)
    near = 0
    for i in range(20):
        a = dataset.sample(i)["alpha"][0]
        centre = a[24:72, 24:72]  # the middle half of the crop
        near += bool(((centre > 0) & (centre < 1)).any())
    assert near >= 18


def test_geometric_and_colour_augmentation_vary(sets):
    """The same foreground file comes out differently placed and coloured across samples."""
    fg, _ = sets
    dataset = CompositeDataset([RGBAFolder(fg.root, names=["obj0.png"])], sets[1], crop_size=S)
    samples = [dataset.sample(i) for i in range(6)]
    alphas = {s["alpha"].tobytes() for s in samples}
    areas = [float(s["alpha"].sum()) for s in samples]
    assert len(alphas) == 6
    assert max(areas) > 1.3 * min(areas)  # resized
    colours = [s["fg"][:, s["alpha"][0] > 0.9].mean(axis=1) for s in samples]
    assert np.ptp(np.array(colours), axis=0).max() > 0.02  # colour jitter


def _guidance_changes(a: CompositeDataset, b: CompositeDataset, n: int = 24) -> int:
    """How many of the first n samples differ in guidance; everything else must be equal."""
    changed = 0
    for i in range(n):
        x, y = a.sample(i), b.sample(i)
        for key in ("image", "alpha", "fg", "bg"):
            np.testing.assert_array_equal(x[key], y[key])
        changed += not np.array_equal(x["guidance"], y["guidance"])
    return changed


def test_cutmask_switch_changes_guidance_only(sets):
    plain = _dataset(sets, mode="merge", seed=9, cutmask=False)
    cut = _dataset(sets, mode="merge", seed=9, cutmask=True)
    assert 1 <= _guidance_changes(plain, cut) <= 16  # with probability 0.25


def test_noisy_guidance_differs_from_paper(sets):
    paper = _dataset(sets, guidance="paper", seed=10)
    noisy = _dataset(sets, guidance="noisy", seed=10)
    differs = sum(
        not np.array_equal(paper.sample(i)["guidance"], noisy.sample(i)["guidance"])
        for i in range(6)
    )
    assert differs == 6


def test_errors(sets):
    fg, bg = sets
    with pytest.raises(ValueError, match="unknown mode"):
        CompositeDataset([fg], bg, mode="stack")
    with pytest.raises(ValueError, match="unknown guidance"):
        CompositeDataset([fg], bg, guidance="exact")
    with pytest.raises(ValueError, match="no foregrounds"):
        CompositeDataset([RGBAFolder(fg.root, names=[])], bg)
    with pytest.raises(ValueError, match="no backgrounds"):
        CompositeDataset([fg], ImageFolder(bg.root, names=[]))
    dataset = _dataset(sets, length=3)
    assert len(dataset) == 3
    with pytest.raises(IndexError):
        dataset[3]
    with pytest.raises(IndexError):
        dataset[-1]


def test_to_tensors_drops_names(sets):
    s = _dataset(sets).sample(0)
    t = to_tensors(s)
    assert set(t) == set(KEYS)
    assert t["image"].shape == (3, S, S) and t["guidance"].shape == (1, S, S)


def test_dataloader_workers_reproduce_the_samples(sets):
    dataset = _dataset(sets, length=6, seed=11)
    batches = [
        list(torch.utils.data.DataLoader(dataset, batch_size=3, num_workers=workers))
        for workers in (0, 2)
    ]
    for one, two in zip(*batches, strict=True):
        for key in KEYS:
            assert torch.equal(one[key], two[key])


def _config(tiny_data, **data) -> dict:
    return {
        "fg": [{"type": "rgba", "root": str(tiny_data["fg"]), "val_fraction": 0.34}],
        "bg": {"root": str(tiny_data["bg"]), "val_fraction": 0.3},
        "crop_size": S,
        "length": 12,
        **data,
    }


def test_build_train_dataset_uses_only_the_train_split(tiny_data):
    cfg = _config(tiny_data, mode="merge", cutmask=True, procedural_ratio=0.3)
    dataset = build_train_dataset(cfg, seed=5)
    fg_names = sorted(p.name for p in tiny_data["fg"].iterdir())
    bg_names = sorted(p.name for p in tiny_data["bg"].iterdir())
    fg_train, fg_val = train_val_split(fg_names, 0.34)
    bg_train, bg_val = train_val_split(bg_names, 0.3)
    assert fg_val and bg_val
    assert dataset.fg_sets[0].names == fg_train
    assert dataset.bg_set.names == bg_train
    assert dataset.procedural is not None and dataset.procedural.color_source.names == bg_train
    assert (dataset.mode, dataset.cutmask, dataset.crop_size, len(dataset)) == (
        "merge",
        True,
        S,
        12,
    )
    seen = {n for i in range(12) for n in dataset.sample(i)["names"]}
    assert not seen & set(fg_val)
    again = build_train_dataset(cfg, seed=5)
    np.testing.assert_array_equal(again.sample(4)["image"], dataset.sample(4)["image"])


def test_build_val_set_is_fixed_and_held_out(tiny_data):
    cfg = _config(tiny_data, val={"n": 4, "size": 48, "seed": 3, "guidance": "noisy"})
    items = build_val_set(cfg)
    again = build_val_set(cfg)
    fg_names = sorted(p.name for p in tiny_data["fg"].iterdir())
    _, fg_val = train_val_split(fg_names, 0.34)
    assert len(items) == 4
    for k, (item, other) in enumerate(zip(items, again, strict=True)):
        assert item["name"].startswith(f"val{k:03d}:")
        used = [n for n in item["name"].split(":", 1)[1].split("+") if n.endswith(".png")]
        assert used and set(used) <= set(fg_val)
        assert item["image"].shape == (3, 48, 48) and item["alpha"].shape == (1, 48, 48)
        for key in KEYS:
            assert torch.equal(item[key], other[key])
    with pytest.raises(ValueError, match="validation guidance"):
        build_val_set(_config(tiny_data, val={"guidance": "simulate"}))


def test_noisy_guidance_ratio_mixes_segmentation_like_masks(sets):
    """noisy_ratio replaces a share of the simulated guidance and nothing else in the sample."""
    plain = _dataset(sets, seed=11)
    assert _guidance_changes(plain, _dataset(sets, seed=11, noisy_ratio=0.0), n=4) == 0
    assert 4 <= _guidance_changes(plain, _dataset(sets, seed=11, noisy_ratio=0.5)) <= 20


def test_procedural_kinds_limit_what_is_drawn(sets, monkeypatch):
    from wildmatte.data import procedural

    _, bg = sets
    drawn = []

    def recorder(name):
        real = procedural.GENERATORS[name]
        return lambda rng, size, texture: drawn.append(name) or real(rng, size, texture)

    patched = {name: recorder(name) for name in procedural.GENERATORS}
    monkeypatch.setattr(procedural, "GENERATORS", patched)
    kinds = [k for k in patched if k != "holes"]
    proc = ProceduralForegrounds(bg, size=S, seed=0, length=40, kinds=kinds)
    for i in range(40):
        proc[i]
    assert set(drawn) <= set(kinds) and len(set(drawn)) > 3
    with pytest.raises(ValueError, match="procedural kinds"):
        ProceduralForegrounds(bg, size=S, kinds=["holes", "teapot"])


def test_max_upscale_caps_how_much_a_cutout_is_enlarged(sets, monkeypatch):
    """Cutouts (extent ~40 px) in 64² crops want up to 3.2×; data.max_upscale caps it."""
    scales = []
    real = ds_module.augment.scaling
    monkeypatch.setattr(ds_module.augment, "scaling", lambda s: scales.append(s) or real(s))
    for i in range(10):
        _dataset(sets, seed=2).sample(i)
    assert max(scales) == pytest.approx(ds_module.MAX_UPSCALE)
    scales.clear()
    for i in range(10):
        _check_sample(_dataset(sets, seed=2, max_upscale=1.0).sample(i))
    assert max(scales) <= 1.0


def test_procedural_size_and_kinds_from_the_config(tiny_data):
    cfg = _config(tiny_data, procedural_ratio=1.0, procedural_size=96, procedural_kinds=["solid"])
    dataset = build_train_dataset(cfg)
    assert dataset.procedural.size == 96 and dataset.procedural.kinds == ["solid"]
    fg, alpha = dataset.procedural[0]
    assert fg.shape == (96, 96, 3)
    _check_sample(dataset.sample(0))
    # Without the keys: drawn at the crop's size, from the kinds every earlier config drew.
    plain = build_train_dataset(_config(tiny_data, procedural_ratio=1.0))
    assert plain.procedural.size == S and "solid" not in plain.procedural.kinds
