"""`wildmatte bench eval`: known answers, resuming, bad files, and the Composition-Wild layout."""

import json

import cv2
import numpy as np
import pytest
from conftest import make_bg_folder, make_rgba_folder

from wildmatte.data.backgrounds import open_backgrounds
from wildmatte.data.foregrounds import open_foregrounds
from wildmatte.errors import InputError
from wildmatte.evaluation.cwild import build_cwild
from wildmatte.evaluation.layouts import load_cases
from wildmatte.evaluation.run import parse_engine
from wildmatte.interfaces.cli import main
from wildmatte.model import PRN, save_model

SIZE = 40


def _binary_pairs(root, n=3):
    """images/ and alphas/ with binary (hard-edged) mattes: the mask itself is exact."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "alphas").mkdir()
    for i in range(n):
        alpha = np.zeros((SIZE, SIZE), np.uint8)
        cv2.rectangle(alpha, (5 + i, 6), (25 + i, 30), 255, -1)
        image = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "images" / f"p{i}.png"), image)
        cv2.imwrite(str(root / "alphas" / f"p{i}.png"), alpha)
    return root


def _eval(data, out, *extra):
    argv = ["bench", "eval", "--data", str(data), "--out", str(out), "--no-progress"]
    return main([*argv, "--engines", "guidance", "--kernel", "1", *extra])


def _results(out):
    return json.loads((out / "results.json").read_text())


def test_guidance_engine_on_binary_truth_scores_zero(tmp_path, capsys):
    data = _binary_pairs(tmp_path / "pairs")
    assert _eval(data, tmp_path / "out") == 0
    (row,) = _results(tmp_path / "out")["engines"]
    assert row["n"] == 3
    assert all(v == 0 for v in row["mean"].values())
    assert list(row["by_category"]) == ["all"]  # no categories in this layout: just "all"
    printed = capsys.readouterr().out
    assert "| guidance |" in printed and "SAD_BG" in printed
    report = (tmp_path / "out" / "results.md").read_text()
    assert report.count("| guidance |") == 1 and "By category" not in report
    assert (tmp_path / "out" / "grid-guidance.png").is_file()


def test_resume_keeps_predictions_and_scores_a_known_error(tmp_path):
    data, out = _binary_pairs(tmp_path / "pairs"), tmp_path / "out"
    assert _eval(data, out) == 0
    pred_path = out / "predictions" / "guidance" / "p0.png"
    pred = cv2.imread(str(pred_path), cv2.IMREAD_UNCHANGED)
    pred[10:20, 10:20] = 32768  # 100 px of the object at ~0.5: SAD = 100 · 0.5 / 1000
    cv2.imwrite(str(pred_path), pred)
    before = pred_path.read_bytes()
    seconds = json.loads((out / "predictions" / "guidance" / "run.json").read_text())["seconds"]

    assert _eval(data, out) == 0
    assert pred_path.read_bytes() == before  # skipped, not recomputed
    run = json.loads((out / "predictions" / "guidance" / "run.json").read_text())
    assert run["seconds"] == seconds
    per_case = _results(out)["engines"][0]["per_case"]
    assert per_case["p0"]["SAD"] == pytest.approx(0.05, abs=1e-5)
    assert per_case["p0"]["MSE"] == pytest.approx(100 * 0.25 / SIZE**2, rel=1e-4)
    assert per_case["p0"]["SAD_FG"] == pytest.approx(0.05, abs=1e-5)
    assert per_case["p0"]["SAD_BG"] == 0 and per_case["p1"]["SAD"] == 0

    assert _eval(data, out, "--fresh") == 0  # --fresh recomputes
    assert _results(out)["engines"][0]["per_case"]["p0"]["SAD"] == 0


def test_bad_file_is_reported_and_the_rest_evaluated(tmp_path, capsys):
    data = _binary_pairs(tmp_path / "pairs")
    (data / "images" / "broken.png").write_bytes(b"not a png")
    (data / "alphas" / "broken.png").write_bytes(b"\x89PNG nonsense")
    cv2.imwrite(str(data / "images" / "lonely.png"), np.zeros((SIZE, SIZE, 3), np.uint8))
    assert _eval(data, tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "broken.png: not a readable image" in err
    assert "lonely.png: no alpha matte with this stem" in err
    results = _results(tmp_path / "out")
    assert results["engines"][0]["n"] == 3 and len(results["failures"]) == 2


def test_cwild_layout_scores_both_targets(tmp_path):
    fg = make_rgba_folder(tmp_path / "fg", n=4)
    bg = make_bg_folder(tmp_path / "bg", n=2)
    fgset = open_foregrounds({"root": str(fg)}, "all")
    bgset = open_backgrounds({"root": str(bg)}, "all")
    build_cwild(fgset, bgset, tmp_path / "cw", n=2, size=64, seed=3)
    out = tmp_path / "out"
    weights = save_model(PRN("prn-tiny"), tmp_path / "tiny")  # untrained: scores are not the point
    code = main(
        ["bench", "eval", "--data", str(tmp_path / "cw"), "--out", str(out), "--no-progress"]
        + ["--engines", "guidance", f"tiny=prn:{weights}", "--guidance", "noisy"]
    )
    assert code == 0
    results = _results(out)
    assert results["layout"] == "cwild" and results["cases"] == 4
    guidance, tiny = results["engines"]
    assert tiny["label"] == "tiny" and tiny["seconds_per_image"] > 0
    assert set(tiny["by_role"]) == {"front", "occluded"}
    assert "SAD_OCC" in guidance["mean"] and guidance["mean"]["SAD"] > 0
    assert (out / "predictions" / "tiny" / "0001-occluded.png").is_file()


def test_aim_layout_is_detected(tmp_path):
    (tmp_path / "original").mkdir()
    (tmp_path / "mask").mkdir()
    cv2.imwrite(str(tmp_path / "original" / "a.jpg"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "mask" / "a.png"), np.zeros((8, 8), np.uint8))
    cases, problems = load_cases(tmp_path)
    assert [c.name for c in cases] == ["a"] and problems == []


def test_engine_specs():
    assert parse_engine("classic").label == "classic"
    spec = parse_engine("prn:runs/x/model.safetensors")
    assert (spec.name, spec.weights, spec.label) == ("prn", "runs/x/model.safetensors", "prn:model")
    assert parse_engine("mg=prn:prn-light").label == "mg"
    with pytest.raises(InputError):
        parse_engine("knn")


def test_predictions_from_another_guidance_are_not_reused(tmp_path):
    data, out = _binary_pairs(tmp_path / "pairs"), tmp_path / "out"
    assert _eval(data, out) == 0
    pred_path = out / "predictions" / "guidance" / "p0.png"
    cv2.imwrite(str(pred_path), np.zeros((SIZE, SIZE), np.uint16))
    assert _eval(data, out, "--guidance", "noisy") == 0
    assert cv2.imread(str(pred_path), cv2.IMREAD_UNCHANGED).any()  # recomputed
