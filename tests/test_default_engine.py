"""The one default engine: onnxruntime where its graphs are cached or can be made, else torch
in one line; an unwritable cache exports in memory; bad weights fail before anything is said."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scenes import flat_disc

from wildmatte import Matter
from wildmatte.errors import InputError
from wildmatte.inference import onnx_engine
from wildmatte.inference.engines import PRNEngine, default_engine, get_engine
from wildmatte.inference.onnx_engine import BandOnnxEngine, cache_dir
from wildmatte.interfaces.cli import main
from wildmatte.model import PRN, save_model

pytest.importorskip("onnxruntime", reason="onnxruntime is in the [onnx] extra")
pytest.importorskip("onnx", reason="onnx is in the [onnx] extra")

ASSETS = Path(__file__).resolve().parents[1] / "wildmatte" / "assets"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A random-init prn-tiny saved as a weights file (fast to export and to run)."""
    torch.manual_seed(0)
    return save_model(PRN("prn-tiny").eval(), tmp_path_factory.mktemp("w") / "tiny")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("WILDMATTE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def no_onnx(monkeypatch):
    """An environment with onnxruntime but not onnx (any rembg user's): `import onnx` fails."""
    monkeypatch.setitem(sys.modules, "onnx", None)


def _stderr_lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_the_tests_keep_to_their_own_cache():
    assert not cache_dir().is_relative_to(Path.home() / ".cache")


def test_without_onnx_predict_runs_torch_and_says_so_in_one_line(
    fresh_cache, no_onnx, tmp_path, capsys
):
    out = tmp_path / "alpha.png"
    args = [ASSETS / "example.jpg", "--mask", ASSETS / "example_mask.png", "-o", out]
    assert main(["predict", *map(str, args)]) == 0
    err = _stderr_lines(capsys)
    assert len(err) == 1 and "onnx" in err[0] and "torch" in err[0], err
    assert out.is_file() and not fresh_cache.exists()  # nothing half-made in the cache


def test_without_onnx_cached_graphs_are_still_used(tiny, fresh_cache, monkeypatch, capsys):
    default_engine(tiny, "cpu")  # exported while onnx is there
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert isinstance(default_engine(tiny, "cpu"), BandOnnxEngine)
    assert _stderr_lines(capsys) == []


def test_a_named_onnx_engine_without_onnx_is_a_one_line_error(tiny, fresh_cache, no_onnx):
    with pytest.raises(InputError, match="needs the onnx package") as err:
        get_engine("onnx", tiny)
    assert len(str(err.value).splitlines()) == 1


def test_a_failed_export_falls_back_to_torch(tiny, fresh_cache, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter exploded\nwith a long story")

    monkeypatch.setattr(onnx_engine, "export_bytes", broken)
    engine = default_engine(tiny, "cpu")
    assert isinstance(engine, PRNEngine)
    err = _stderr_lines(capsys)
    assert err[-1].endswith("running torch instead") and "exporter exploded" in err[-1]


@pytest.mark.parametrize("where", ["under a file", "a file"])
def test_an_unwritable_cache_exports_in_memory(tiny, tmp_path, monkeypatch, capsys, where):
    """Tests run as root, whom chmod does not stop: a path through a regular file cannot be a
    folder for anyone."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(
        "WILDMATTE_CACHE", str(blocker / "cache" if where == "under a file" else blocker)
    )
    engine = default_engine(tiny, "cpu")
    err = _stderr_lines(capsys)
    assert isinstance(engine, BandOnnxEngine)
    assert len(err) == 1 and "in memory" in err[0] and str(blocker) in err[0]
    image, mask = flat_disc(64, 96)
    ref = get_engine("prn", tiny, "cpu")(image, mask)
    assert np.abs(engine(image, mask) - ref).max() < 1e-3
    assert blocker.read_text() == "not a folder"


def test_bad_weights_print_nothing_before_their_error(tiny, tmp_path, fresh_cache, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(tiny.read_bytes()[:500])
    bad.with_suffix(".json").write_bytes(tiny.with_suffix(".json").read_bytes())
    image = ASSETS / "example.jpg"
    args = [image, "--mask", ASSETS / "example_mask.png", "-o", tmp_path / "a.png"]
    assert main(["predict", *map(str, args), "--weights", str(bad)]) == 2
    err = _stderr_lines(capsys)
    assert len(err) == 1 and str(bad) in err[0] and "not a readable weights file" in err[0]
    assert not fresh_cache.exists()


def test_matter_and_predict_share_the_default_engine(tiny, fresh_cache):
    matter = Matter.from_pretrained(tiny, device="cpu")
    assert matter.name == default_engine(tiny, "cpu").name == "onnx"
    assert matter.info()["weights"] == str(tiny)
    assert Matter.from_pretrained(tiny, device="cpu", engine="prn").name == "prn"
    image, mask = flat_disc(64, 96)
    ref = get_engine("prn", tiny, "cpu")(image, mask)
    assert np.abs(matter.predict(image, mask) - ref).max() < 1e-3


def test_threads_reach_the_onnx_sessions_and_serve_splits_the_cores():
    from wildmatte.inference.matter import Matter
    from wildmatte.interfaces.commands.serve import call_threads

    engine = Matter.from_pretrained(threads=1, hires=False).engine
    assert engine.name == "onnx"
    assert engine.coarse.get_session_options().intra_op_num_threads == 1
    assert call_threads(1) >= call_threads(2) >= 1
