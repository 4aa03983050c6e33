"""benchmarks/results.py: which weights fill which rows of docs/RESULTS.md."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results():
    spec = importlib.util.spec_from_file_location("results", ROOT / "benchmarks" / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    return path


def test_rows_take_the_paper_run_else_its_cpu_scale_run(results, tmp_path):
    paper = _touch(tmp_path / "mgmatting" / "model.safetensors")
    _touch(tmp_path / "open-mgmatting" / "model.safetensors")
    cpu = _touch(tmp_path / "open-instance-wise" / "model.safetensors")
    found = results.find_weights(tmp_path, ["extra=/x/y.safetensors"])
    assert found["mgmatting"] == paper
    assert found["instance-wise"] == cpu
    assert "mgmatting-star" not in found
    assert found["extra"] == Path("/x/y.safetensors")
    assert results.find_weights(None, [])["bundled-default"].name == "default.safetensors"


def test_findings_compare_the_rows_they_name(results):
    def row(**mean):
        return {"engine": "prn", "mean": {"SAD": 1.0, **mean}}

    paper = {
        "guidance": {"engine": "guidance", "mean": {"SAD": 9.0}},
        "classic": {"engine": "classic", "mean": {"SAD": 3.0}},
        "instance-wise": row(SAD=2.0, SAD_OCC=0.5),
        "mgmatting": row(SAD=2.5, SAD_OCC=0.9),
    }
    noisy = {"selftrain": row(SAD=4.0), "stage2-control": row(SAD=3.5)}
    lines = results.findings(paper, noisy)
    assert any("merging on SAD_OCC" in x and "**yes** (SAD_OCC 0.50 vs 0.90)" in x for x in lines)
    assert any("MGMatting*" in x and "not tested" in x for x in lines)
    # A claim about noisy guidance reads the noisy table only.
    assert any("with noisy guidance: **no** (SAD 4.00 vs 3.50)" in x for x in lines)
    assert any("same steps (our control): not tested" in x for x in lines)


def test_a_difference_inside_the_paired_interval_is_called_noise(results):
    def row(values):
        per_case = {f"c{i}": {"SAD": v} for i, v in enumerate(values)}
        return {"engine": "prn", "mean": {"SAD": sum(values) / len(values)}, "per_case": per_case}

    base = [float(i) for i in range(30)]
    clear = results.compare(row([v - 1.0 for v in base]), row(base), "SAD")
    assert clear.startswith("**yes**") and "paired difference -1.00" in clear
    noisy = [v + (0.5 if i % 2 else -0.45) for i, v in enumerate(base)]
    assert results.compare(row(noisy), row(base), "SAD").startswith(
        "**no difference beyond noise**"
    )
    assert results.compare(row(base), row([v - 1.0 for v in base]), "SAD").startswith("**no**")


def test_results_open_with_the_headline_and_rounds_go_to_the_history(results):
    def row(sad, engine="prn"):
        mean = {"SAD": sad, "SAD_BG": sad / 2, "SAD_OCC": sad / 4}
        return {"engine": engine, "mean": mean, "seconds_per_image": 0.2}

    paper = {"guidance": row(9.0, "guidance"), "classic": row(4.0, "classic")}
    paper |= {"bundled-default": row(2.0)}
    paper |= {"open-default-v2": row(3.0), "open-default": row(3.5)}
    noisy = {k: row(v["mean"]["SAD"] + 1) for k, v in paper.items()}
    headline = results.headline_table(paper, noisy).splitlines()
    assert len(headline) == 5 and headline[-1].startswith("| Shipped default")
    assert "| 2.00 | 1.00 | 0.50 | 3.00 | 1.50 | 0.75 | 0.20 |" in headline[-1]
    rounds = results.findings(paper, noisy, results.ROUND_CLAIMS)
    assert any(x.startswith("Round 2 of stage 1 improves on round 1: **yes**") for x in rounds)
    assert not any("guidance mask" in x for x in rounds)
    assert not any("Round 2" in x for x in results.findings(paper, noisy))
