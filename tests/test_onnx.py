"""ONNX export and the onnxruntime engine: same alpha as torch, dynamic sizes, cached export."""

import numpy as np
import pytest
import torch
from scenes import flat_disc

from wildmatte.inference.engines import get_engine
from wildmatte.interfaces.cli import main
from wildmatte.model import PRN, save_model

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the [onnx] extra")
onnx = pytest.importorskip("onnx", reason="onnx is in the [onnx] extra")


def _inputs(h: int, w: int, n: int = 1, seed: int = 0):
    rng = np.random.default_rng(seed)
    image = rng.random((n, 3, h, w), dtype=np.float32)
    guidance = np.zeros((n, 1, h, w), np.float32)
    guidance[:, :, h // 4 : 3 * h // 4, w // 5 : 4 * w // 5] = 1.0
    return image, guidance


def _torch_alpha(model: PRN, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
    """The reference: PRNEngine's recipe (reflect-pad to 32, fused alpha, crop, clamp)."""
    h, w = image.shape[2:]
    x = torch.cat([torch.from_numpy(image), torch.from_numpy(guidance)], dim=1)
    x = torch.nn.functional.pad(x, (0, (-w) % 32, 0, (-h) % 32), mode="reflect")
    with torch.no_grad():
        alpha = model(x[:, :3], x[:, 3:])["alpha"]
    return alpha[:, :, :h, :w].clamp(0, 1).numpy()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A random-init prn-tiny, saved and exported with the CLI."""
    folder = tmp_path_factory.mktemp("onnx")
    torch.manual_seed(0)
    model = PRN("prn-tiny").eval()
    weights = save_model(model, folder / "tiny")
    out = folder / "tiny.onnx"
    assert main(["export", "onnx", "--out", str(out), "--weights", str(weights)]) == 0
    return model, weights, out


def test_exported_graph_names_and_dynamic_axes(tiny):
    _, _, path = tiny
    graph = onnx.load(str(path)).graph
    onnx.checker.check_model(onnx.load(str(path)))
    names = {
        i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
        for i in graph.input
    }
    assert names == {
        "image": ["batch", 3, "height", "width"],
        "guidance": ["batch", 1, "height", "width"],
    }
    assert [o.name for o in graph.output] == ["alpha"]


@pytest.mark.parametrize("size", [(64, 96), (70, 101)])
def test_onnx_matches_torch_on_two_sizes_batched(tiny, size):
    model, _, path = tiny
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image, guidance = _inputs(*size, n=2)
    (alpha,) = session.run(["alpha"], {"image": image, "guidance": guidance})
    assert alpha.shape == (2, 1, *size)
    assert np.abs(alpha - _torch_alpha(model, image, guidance)).max() < 1e-3


def test_onnx_engine_with_bundled_weights_exports_once_to_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WILDMATTE_CACHE", str(tmp_path / "cache"))
    image, guidance = _inputs(80, 112)
    engine = get_engine("onnx")
    cached = sorted((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert [p.stem.rsplit("-", 1)[1] for p in cached] == ["coarse", "fine"]
    stamps = [p.stat().st_mtime_ns for p in cached]
    alpha = engine(image[0].transpose(1, 2, 0), guidance[0, 0])
    ref = get_engine("prn", None, "cpu")(image[0].transpose(1, 2, 0), guidance[0, 0])
    assert alpha.shape == (80, 112) and np.abs(alpha - ref).max() < 1e-3
    get_engine("onnx")
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # reused, not exported again
    assert not [p for p in cached[0].parent.iterdir() if p.suffix != ".onnx"]  # no temp files


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"not onnx"])
def test_a_damaged_cached_graph_is_exported_again(tiny, tmp_path, monkeypatch, capsys, damage):
    """A cache file cut short or overwritten would fail every later run: it is made again."""
    monkeypatch.setenv("WILDMATTE_CACHE", str(tmp_path / "cache"))
    _, weights, _ = tiny
    image, guidance = _inputs(40, 72)
    img, gd = image[0].transpose(1, 2, 0), guidance[0, 0]
    before = get_engine("onnx", weights)(img, gd)
    coarse = next((tmp_path / "cache" / "onnx").glob("*-coarse.onnx"))
    coarse.write_bytes(damage(coarse.read_bytes()))
    capsys.readouterr()
    after = get_engine("onnx", weights)(img, gd)
    err = capsys.readouterr().err
    assert f"{coarse}: cannot load ONNX model" in err and "exporting it again" in err
    assert np.abs(after - before).max() < 1e-6
    get_engine("onnx", weights)  # the cache is whole again: no third export
    assert "exporting" not in capsys.readouterr().err


def test_the_band_limited_engine_gives_the_full_graphs_alpha(monkeypatch):
    """The CPU engine runs the 1/1 head on windows around its band only; the alpha must be the
    one-graph export's, and the windows must really be fewer than the whole image."""
    from wildmatte.inference import band_fine
    from wildmatte.inference.engines import DEFAULT_WEIGHTS
    from wildmatte.inference.onnx_engine import BandOnnxEngine, OnnxEngine, cached_export

    image, guidance = flat_disc(400, 500)
    windows = []
    real = band_fine.windows
    monkeypatch.setattr(band_fine, "windows", lambda *a: windows.extend(real(*a)) or real(*a))
    engine = get_engine("onnx")
    assert isinstance(engine, BandOnnxEngine)
    alpha = engine(image, guidance)
    full = OnnxEngine(cached_export(DEFAULT_WEIGHTS))(image, guidance)
    size = band_fine.CELL + 2 * band_fine.HALO
    assert 0 < len(windows) * size**2 < band_fine.MAX_SHARE * 416 * 512  # padded to 32s
    assert alpha.shape == (400, 500) and np.abs(alpha - full).max() < 1e-5


def test_onnx_engine_on_a_tiny_image_and_saved_weights(tiny):
    model, weights, path = tiny
    image, guidance = _inputs(20, 50)
    img, gd = image[0].transpose(1, 2, 0), guidance[0, 0]
    a = get_engine("onnx", str(path))(img, gd)
    b = get_engine("prn", weights, "cpu")(img, gd)
    assert a.shape == (20, 50) and np.abs(a - b).max() < 1e-3


def test_predict_with_the_onnx_engine(tiny, tmp_path, capsys):
    import cv2

    _, _, path = tiny
    image, guidance = _inputs(40, 56)
    cv2.imwrite(str(tmp_path / "a.png"), (image[0].transpose(1, 2, 0) * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), (guidance[0, 0] * 255).astype(np.uint8))
    out = tmp_path / "alpha.png"
    args = [tmp_path / "a.png", "--mask", tmp_path / "m.png", "-o", out, "--engine", "onnx"]
    code = main(["predict", *map(str, args), "--weights", str(path)])
    assert code == 0 and cv2.imread(str(out), cv2.IMREAD_UNCHANGED).shape == (40, 56)


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--out", "model.txt"], "must be a .onnx file"),
        (["--out", "m.onnx", "--weights", "missing.safetensors"], "not found"),
        (["--out", "m.onnx", "--opset", "9"], "not supported"),
    ],
)
def test_export_bad_arguments_are_one_line(tmp_path, capsys, monkeypatch, args, problem):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "onnx", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and problem in err and not list(tmp_path.iterdir())


def test_a_bad_onnx_file_is_one_line(tmp_path):
    from wildmatte.errors import InputError

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(InputError, match="cannot load ONNX model"):
        get_engine("onnx", str(bad))


def test_the_default_on_a_cpu_is_onnx_and_bench_speed_times_exactly_that():
    from wildmatte.evaluation.speed import engine_job
    from wildmatte.inference.engines import default_engine_name

    assert default_engine_name(None, "cpu") == "onnx"
    assert default_engine_name("prn-tiny", "cpu") == "prn"  # a config name is not a file
    job = engine_job("default", "cpu")
    assert job == {"label": "default (onnx)", "name": "onnx", "weights": None}
