"""The wild set: independent of the training generator, seeded, layered exactly, labelled, and
readable by `bench eval` with per-category scores."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from wildmatte.data.categories import held_out
from wildmatte.data.imageio import read_alpha
from wildmatte.evaluation import wildset
from wildmatte.interfaces.cli import main

HELD = ["food__apple", "food__pear", "clothes__hat", "clothes__sock", "sports__ball"]
HELD += ["space__moon", "vehicles__car", "household__cup", "hobbies__kite", "food__plum"]
TRAINABLE = ["animals__cat", "plants__fern"]
RINGS = {"household__cup", "vehicles__car"}  # cutouts with a real hole (tune and test)
CANVAS = (120, 160)


def _cutout(size: int, rng: np.random.Generator, ring: bool) -> np.ndarray:
    alpha = np.zeros((size, size), np.uint8)
    cv2.ellipse(
        alpha, (size // 2, size // 2), (20, 16), float(rng.uniform(0, 180)), 0, 360, 255, -1
    )
    if ring:
        cv2.circle(alpha, (size // 2, size // 2), 7, 0, -1)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0.8)
    colour = rng.integers(0, 60, (size, size, 3)) + rng.integers(0, 190, 3)
    return np.dstack([colour.astype(np.uint8), alpha])


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("wild-sources")
    rng = np.random.default_rng(0)
    (root / "fg").mkdir()
    (root / "bg").mkdir()
    for name in HELD + TRAINABLE:
        cv2.imwrite(str(root / "fg" / f"{name}.png"), _cutout(48, rng, name in RINGS))
    for i in range(6):
        noise = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "bg" / f"bg{i}.jpg"), cv2.GaussianBlur(noise, (9, 9), 3))
    return {"fg": root / "fg", "bg": root / "bg"}


def _build(sources, out: Path, split: str = "tune", n: int = 8) -> dict:
    report = wildset.build_wildset(sources["fg"], sources["bg"], out, split, n, canvas=CANVAS)
    assert report.samples == n and not report.failures
    return json.loads(report.manifest.read_text())


@pytest.fixture(scope="module")
def built(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("wild") / "tune"
    return out, _build(sources, out, n=12)


def _targets(manifest: dict) -> list[dict]:
    return [t for s in manifest["samples"] for t in s["targets"]]


def test_same_seed_same_files(sources, built, tmp_path):
    out, manifest = built
    again = tmp_path / "again"
    assert _build(sources, again, n=12) == manifest
    files = sorted(p.relative_to(out) for p in out.rglob("*.png"))
    assert files and files == sorted(p.relative_to(again) for p in again.rglob("*.png"))
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)
    other = wildset.build_wildset(
        sources["fg"], sources["bg"], tmp_path / "seed", "tune", 2, seed=5, canvas=CANVAS
    )
    assert (tmp_path / "seed" / "0000" / "image.png").read_bytes() != (
        out / "0000" / "image.png"
    ).read_bytes()
    assert other.samples == 2


def test_visible_alphas_and_background_weight_sum_to_one(sources):
    cutouts = {n: wildset.read_cutout(sources["fg"] / f"{n}.png") for n in HELD[:4]}
    bg = wildset.read_background(sources["bg"] / "bg0.jpg", CANVAS)
    for i in range(6):
        sample = wildset.make_sample(cutouts, bg, np.random.default_rng([3, i]), CANVAS)
        assert 2 <= len(sample.layers) <= 3
        total = sum(v.astype(np.int64) for v in sample.visible)
        assert total.max() <= 65535
        assert np.abs(total / 65535.0 + sample.background_weight - 1.0).max() < 1e-4
        assert sample.hidden[1] > 0  # the occluded target is partly behind the front one
        occluded = sample.visible[1] / 65535.0 < sample.amodal[1] - 1e-3
        assert occluded.any()


def test_saved_layers_recompose_the_image(built):
    out, manifest = built
    for sample in manifest["samples"]:
        image = cv2.imread(str(out / sample["image"]))[..., ::-1].astype(np.float64)
        bg = cv2.imread(str(out / sample["background"]))[..., ::-1].astype(np.float64)
        recomposed = bg.copy()
        for o in sample["objects"]:
            weight = read_alpha(out / o["alpha"]).astype(np.float64)[..., None]
            fg = cv2.imread(str(out / o["fg"]))[..., ::-1].astype(np.float64)
            recomposed += weight * (fg - bg)
        assert np.abs(recomposed - image).max() <= 1.0


def _layer(sources, effect: str, name: str = "food__apple", seed: int = 0) -> wildset.Layer:
    cutout = wildset.read_cutout(sources["fg"] / f"{name}.png")
    return wildset.make_layer(name, cutout, effect, 100, np.random.default_rng(seed))


def test_each_effect_gives_its_category(sources):
    expected = {"plain": "opaque", "strands": "fine", "dandelion": "fine", "uniform": "partial"}
    expected |= {"ramp": "partial", "motion": "partial", "ring": "interior"}
    for effect, category in expected.items():
        layer = _layer(sources, effect)
        assert layer.effect["kind"] == effect
        assert category in layer.categories
    assert _layer(sources, "plain", "household__cup").categories == ["opaque", "interior"]


def test_strands_are_thin_and_fractional():
    alpha = np.zeros((200, 200), np.float32)
    cv2.circle(alpha, (100, 100), 60, 1.0, -1)
    rgb = np.full((200, 200, 3), 0.5, np.float32)
    hairy = wildset.add_strands(wildset.Layer(rgb, alpha, "disc"), np.random.default_rng(0))
    assert hairy.effect["kind"] == "strands" and hairy.effect["count"] > 20
    outside = (alpha == 0) & (hairy.alpha > 0.01)
    assert outside.sum() > 300  # strands reach out of the disc
    # Sub-pixel widths: across a strand alpha is fractional; only where strands crowd (at
    # their roots) does it near 1.
    assert np.median(hairy.alpha[outside]) < 0.6 and np.mean(hairy.alpha[outside] < 0.9) > 0.75
    assert np.allclose(hairy.alpha[alpha == 1], 1.0)  # the object itself stays opaque


def test_partial_targets_are_see_through_and_covered_by_guidance(sources, built):
    layer = _layer(sources, "uniform", seed=2)
    assert layer.alpha.max() <= 0.7 + 1e-6
    faint = layer.alpha * (0.45 / layer.alpha.max())  # below 0.5 everywhere
    assert not wildset.paper_guidance(faint, partial=False, kernel=1).any()
    covered = wildset.paper_guidance(faint, partial=True, kernel=1)
    assert covered[faint > 0.05].all()
    out, manifest = built
    partial = [t for t in _targets(manifest) if "partial" in t["categories"]]
    assert partial, "12 samples should hold a partial-opacity target"
    for t in partial:
        alpha = read_alpha(out / t["alpha"])
        assert (read_alpha(out / t["guidance"]["paper"]) > 0.5)[alpha > 0.05].all()


def test_categories_roles_and_noisy_guidance(built):
    out, manifest = built
    targets = _targets(manifest)
    assert len(targets) == 24
    found = {c for t in targets for c in t["categories"]}
    assert {"opaque", "fine", "partial", "occluded"} <= found
    for t in targets:
        assert ("occluded" in t["categories"]) == (t["role"] == "occluded")
        assert set(t["categories"]) <= set(wildset.CATEGORIES) and len(t["categories"]) >= 1
        paper = read_alpha(out / t["guidance"]["paper"]) > 0.5
        noisy = read_alpha(out / t["guidance"]["noisy"]) > 0.5
        assert paper.shape == (120, 160) and paper.any() and noisy.any()
        assert (paper != noisy).any()
    assert manifest["categories"] == wildset.category_counts(manifest["samples"])


def test_noisy_guidance_has_a_segmenters_errors():
    alpha = np.zeros((200, 200), np.float32)
    cv2.circle(alpha, (100, 100), 60, 1.0, -1)
    paper = wildset.paper_guidance(alpha, partial=False, kernel=25)
    truth = alpha >= 0.5
    for seed in range(5):
        noisy = wildset.noisy_guidance(alpha, np.random.default_rng(seed))
        iou = (noisy & truth).sum() / (noisy | truth).sum()
        assert 0.6 < iou < 0.995
        assert (noisy != paper).sum() > 200


def test_tune_and_test_cutouts_are_disjoint_and_held_out(sources, built, tmp_path):
    names = sorted(p.name for p in sources["fg"].iterdir())
    tune, test = wildset.split_cutouts(names, "tune"), wildset.split_cutouts(names, "test")
    assert tune and test and not set(tune) & set(test)
    assert sorted(tune + test) == sorted(held_out(names))
    _, manifest = built
    test_manifest = _build(sources, tmp_path / "test", "test", n=3)
    used_tune = {o["source"] for s in manifest["samples"] for o in s["objects"]}
    used_test = {o["source"] for s in test_manifest["samples"] for o in s["objects"]}
    drawn = "generated:dandelion"
    assert (used_tune - {drawn}) <= set(tune) and (used_test - {drawn}) <= set(test)
    assert manifest["sources"]["backgrounds"] == ["bg0.jpg", "bg1.jpg", "bg4.jpg"]  # val split


_GENERATOR = ("composite", "guidance", "procedural", "augment", "backgrounds", "foregrounds")


def test_builder_shares_no_code_with_the_training_generator():
    tree = ast.parse(Path(wildset.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    ours = {m for m in imported if m and m.startswith("wildmatte")}
    assert ours <= {
        "wildmatte.data.categories",
        "wildmatte.data.split",
        "wildmatte.errors",
        "wildmatte.files",
    }
    # Nor through what those import: a fresh interpreter loads none of the generator's modules.
    code = "import sys, wildmatte.evaluation.wildset; print(' '.join(sys.modules))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "wildmatte.evaluation.wildset" in loaded
    banned = {f"wildmatte.data.{m}" for m in _GENERATOR} | {"wildmatte.evaluation.cwild"}
    assert not loaded & banned


def test_cli_builds_and_eval_reports_per_category(sources, built, tmp_path, capsys):
    argv = ["bench", "build-wild", "--split", "test", "--n", "2", "--out", str(tmp_path / "cli")]
    assert main([*argv, "--fg", str(sources["fg"]), "--bg", str(sources["bg"])]) == 0
    manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert manifest["canvas"] == [800, 600] and manifest["split"] == "test"
    assert "wrote 2 images (4 targets" in capsys.readouterr().out

    data, out = built[0], tmp_path / "eval"
    argv = ["bench", "eval", "--data", str(data), "--out", str(out), "--engines", "guidance"]
    assert main([*argv, "--no-progress"]) == 0
    (row,) = json.loads((out / "results.json").read_text())["engines"]
    counts = built[1]["categories"]
    assert row["by_category"]["all"]["n"] == 24
    for category, n in counts.items():
        assert row["by_category"].get(category, {"n": 0})["n"] == n
    assert row["by_category"]["all"]["mean"]["SAD"] == pytest.approx(row["mean"]["SAD"])
    assert "Holes" in row["mean"] and row["mean"]["Holes"] == 0  # a dilated mask has no holes
    report = (out / "results.md").read_text()
    assert "By category" in report and "| guidance | fine |" in report
