"""Composition-Wild builder: the layering invariants hold on the saved files, and it is seeded."""

import json

import numpy as np
import pytest
from conftest import make_bg_folder, make_rgba_folder

from wildmatte.data.imageio import read_alpha, read_rgb
from wildmatte.evaluation.cwild import quantise_visible
from wildmatte.interfaces.cli import main


def _build(tmp_path, out_name="cw", seed=0, n=3, extra=()):
    fg = make_rgba_folder(tmp_path / "fg")
    bg = make_bg_folder(tmp_path / "bg")
    out = tmp_path / out_name
    argv = ["bench", "build-cwild", "--fg", str(fg), "--bg", str(bg), "--out", str(out)]
    argv += ["--n", str(n), "--size", "96", "--seed", str(seed), "--split", "all", *extra]
    return main(argv), out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    code, out = _build(tmp_path_factory.mktemp("cwild"))
    assert code == 0
    return out, json.loads((out / "manifest.json").read_text())


def _layers(out, sample):
    visible = [read_alpha(out / o["alpha"]).astype(np.float64) for o in sample["objects"]]
    amodal = [read_alpha(out / o["amodal"]).astype(np.float64) for o in sample["objects"]]
    return visible, amodal


def test_every_sample_has_front_and_occluded_target(built):
    out, manifest = built
    assert manifest["seed"] == 0 and len(manifest["samples"]) == 3
    for sample in manifest["samples"]:
        assert 2 <= len(sample["objects"]) <= 4
        assert [t["role"] for t in sample["targets"]] == ["front", "occluded"]
        assert sample["objects"][1]["hidden"] > 0  # really behind the front object
        visible, amodal = _layers(out, sample)
        hidden = (amodal[1] > 0) & (visible[1] < amodal[1] - 1e-3)
        assert hidden.any()


def test_layers_and_background_weight_sum_to_one(built):
    out, manifest = built
    for sample in manifest["samples"]:
        visible, amodal = _layers(out, sample)
        background = np.prod([1.0 - a for a in amodal], axis=0)
        assert np.abs(sum(visible) + background - 1.0).max() < 1e-4
        assert sum(visible).max() <= 1.0 + 1e-6  # float32 reading


def test_image_recomposes_from_saved_layers(built):
    out, manifest = built
    for sample in manifest["samples"]:
        visible, _ = _layers(out, sample)
        fgs = [read_rgb(out / o["fg"]) for o in sample["objects"]]
        bg = read_rgb(out / sample["background"])
        recomposed = (1.0 - sum(visible))[..., None] * bg
        for fg, v in zip(fgs, visible):
            recomposed = recomposed + v[..., None] * fg
        assert np.abs(recomposed - read_rgb(out / sample["image"])).max() <= 1 / 255


def test_paper_guidance_covers_the_target(built):
    out, manifest = built
    for sample in manifest["samples"]:
        for target in sample["targets"]:
            gt = read_alpha(out / target["alpha"])
            paper = read_alpha(out / target["guidance"]["paper"]) > 0.5
            noisy = read_alpha(out / target["guidance"]["noisy"]) > 0.5
            assert paper[gt >= 0.5].all()
            assert noisy.any() and not np.array_equal(noisy, paper)


def test_same_seed_same_files(built, tmp_path):
    out, _ = built
    _, again = _build(tmp_path, "again", seed=0)
    _, other = _build(tmp_path, "other", seed=1)
    files = sorted(p.relative_to(out) for p in out.rglob("*.png"))
    assert files == sorted(p.relative_to(again) for p in again.rglob("*.png"))
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)
    assert (out / "0000/image.png").read_bytes() != (other / "0000/image.png").read_bytes()


def test_quantised_layers_never_exceed_one():
    rng = np.random.default_rng(3)
    alphas = [rng.random((8, 8)) for _ in range(4)]
    transmitted, visible = np.ones((8, 8)), []
    for a in alphas:
        visible.append(a * transmitted)
        transmitted = transmitted * (1 - a)
    q = quantise_visible(visible)
    total = sum(x.astype(np.int64) for x in q)
    assert total.max() <= 65535
    assert max(np.abs(x / 65535 - v).max() for x, v in zip(q, visible)) <= 1.01 / 65535


def test_too_few_foregrounds_is_a_clear_error(tmp_path, capsys):
    fg = make_rgba_folder(tmp_path / "fg", n=1)
    bg = make_bg_folder(tmp_path / "bg")
    argv = ["bench", "build-cwild", "--fg", str(fg), "--bg", str(bg), "--out", str(tmp_path / "o")]
    assert main([*argv, "--split", "all", "--size", "96"]) == 2
    assert "at least 2 foregrounds" in capsys.readouterr().err


def test_bad_foreground_is_reported_and_skipped(tmp_path, capsys):
    fg = make_rgba_folder(tmp_path / "fg", n=2)
    (fg / "broken.png").write_bytes(b"not a png")
    bg = make_bg_folder(tmp_path / "bg", n=1)
    out = tmp_path / "o"
    argv = ["bench", "build-cwild", "--fg", str(fg), "--bg", str(bg), "--out", str(out)]
    assert main([*argv, "--split", "all", "--size", "96", "--n", "4"]) == 1
    assert "broken.png: not a readable image" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["samples"]) == 4 and len(manifest["failures"]) == 1
    assert all(len(s["objects"]) == 2 for s in manifest["samples"])
