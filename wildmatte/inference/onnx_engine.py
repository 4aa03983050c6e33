"""ONNX: export a PRN (progressive fusion included) and run it with onnxruntime.

The graph takes `image` (N×3×H×W float32 RGB in [0, 1]) and `guidance` (N×1×H×W float32 in
{0, 1}) of any H and W, pads them inside to multiples of 32 (reflection, as PRNEngine does) and
returns `alpha` (N×1×H×W, clamped to [0, 1]).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from wildmatte.errors import InputError, first_line
from wildmatte.files import write_bytes
from wildmatte.inference.band_fine import fine_in_band
from wildmatte.model import PRN
from wildmatte.model.fusion import RADIUS_OS1, RADIUS_OS4, replace_in_band, uncertain_band

DEFAULT_OPSET = 17
Graph = str | os.PathLike | bytes  # an ONNX file, or a graph in memory


class AlphaGraph(nn.Module):
    """What the ONNX file computes: pad to a multiple of 32, PRN with fusion, crop, clamp."""

    def __init__(self, model: PRN) -> None:
        super().__init__()
        self.model = model.eval()

    def forward(self, image: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[2], image.shape[3]
        x = torch.cat([image, guidance], dim=1)
        # (32 - h % 32) % 32, written so the tracer records it as graph arithmetic.
        ph, pw = (32 - h % 32) % 32, (32 - w % 32) % 32
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        alpha = self.model(x[:, :3], x[:, 3:])["alpha"]
        return alpha[:, :, :h, :w].clamp(0.0, 1.0)


class CoarseGraph(nn.Module):
    """The network without its 1/1 head, on inputs padded to multiples of 32: the input `x`
    and the features the 1/1 head needs (`stem`, `d4`), the alpha fused from the 1/8 and 1/4
    heads, and the `band` where the 1/1 head replaces it."""

    def __init__(self, model: PRN) -> None:
        super().__init__()
        self.model = model.eval()

    def forward(self, image: torch.Tensor, guidance: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.model.inputs(image, guidance)
        c = self.model.coarse(x)
        alpha = replace_in_band(c["alpha_os8"], c["alpha_os4"], RADIUS_OS4)
        return x, c["stem"], c["d4"], alpha, uncertain_band(alpha, RADIUS_OS1).float()


class FineGraph(nn.Module):
    """The 1/1 head's alpha from crops of what CoarseGraph returns (inference/band_fine.py)."""

    def __init__(self, model: PRN) -> None:
        super().__init__()
        self.model = model.eval()

    def forward(self, x: torch.Tensor, stem: torch.Tensor, d4: torch.Tensor) -> torch.Tensor:
        return self.model._to_alpha(self.model.fine(x, stem, d4), (x.shape[2], x.shape[3]))


def _graph(model: PRN, part: str) -> tuple[nn.Module, tuple, list[str], list[str]]:
    """The module to trace, example inputs, input names and output names of one graph."""
    model = model.cpu().float().eval()
    image, guidance = torch.rand(1, 3, 96, 128), torch.ones(1, 1, 96, 128)
    if part == "full":
        return AlphaGraph(model), (image, guidance), ["image", "guidance"], ["alpha"]
    if part == "coarse":
        outputs = ["x", "stem", "d4", "alpha", "band"]
        return CoarseGraph(model), (image, guidance), ["image", "guidance"], outputs
    with torch.no_grad():
        x = model.inputs(image, guidance)
        c = model.coarse(x)
    return FineGraph(model), (x, c["stem"], c["d4"]), ["x", "stem", "d4"], ["alpha_os1"]


def export_bytes(model: PRN, opset: int = DEFAULT_OPSET, part: str = "full") -> bytes:
    """`model` as an ONNX graph (dynamic N, H, W), in memory. `part`: "full" (the documented
    graph), or the "coarse" and "fine" halves the CPU engine runs."""
    graph, inputs, names, outputs = _graph(model, part)
    dims = {0: "batch", 2: "height", 3: "width"}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns about shape arithmetic turned into graph ops: that is intended.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            inputs,
            buffer,
            input_names=names,
            output_names=outputs,
            dynamic_axes={name: dims for name in names + outputs},
            opset_version=opset,
            dynamo=False,
        )
    return buffer.getvalue()


def export_onnx(
    model: PRN, path: str | os.PathLike, opset: int = DEFAULT_OPSET, part: str = "full"
) -> Path:
    """Write `model` as an ONNX file (export_bytes), atomically; returns the path."""
    return write_bytes(path, export_bytes(model, opset, part))


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """$WILDMATTE_CACHE, else $XDG_CACHE_HOME/wildmatte, else ~/.cache/wildmatte (relative only
    where there is no home folder, which the export treats as unwritable)."""
    if os.environ.get("WILDMATTE_CACHE"):
        return Path(os.environ["WILDMATTE_CACHE"]).absolute()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).absolute() / "wildmatte"
    return Path(os.path.expanduser("~")) / ".cache" / "wildmatte"


class ExportUnavailable(InputError):
    """The ONNX graphs of a weights file are not cached and cannot be made here (no `onnx`
    package, or the exporter failed): the default engine then runs torch instead."""


def _weight_files(weights: str | os.PathLike) -> tuple[Path, Path]:
    from wildmatte.model import weight_paths

    st_path, json_path = weight_paths(weights)
    for f in (st_path, json_path):
        if not f.is_file():
            raise InputError(f, "weights file not found")
    return st_path, json_path


def _cache_path(st_path: Path, json_path: Path, opset: int, part: str) -> Path:
    """Keyed by the weights' (and config's) sha256, the opset and the torch version."""
    key = hashlib.sha256(
        f"{sha256_file(st_path)}{sha256_file(json_path)}{opset}{torch.__version__}".encode()
    ).hexdigest()[:24]
    suffix = "" if part == "full" else f"-{part}"
    return cache_dir() / "onnx" / f"{st_path.stem}-{key}{suffix}.onnx"


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (made if missing), or None when they can."""
    if not folder.is_absolute():  # no home folder: "~" was left as it is
        return "no home folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as err:
        return err.strerror or type(err).__name__


def _load_for_export(st_path: Path):
    """The model to export; ExportUnavailable when there is no exporter (`onnx`) here."""
    from wildmatte.model import load_model

    model = load_model(st_path)  # bad weights fail here, before anything is printed
    if importlib.util.find_spec("onnx") is None:
        problem = "exporting to ONNX needs the onnx package (pip install 'wildmatte[onnx]')"
        raise ExportUnavailable(st_path, problem)
    return model


def _export_all(model: PRN, st_path: Path, opset: int, parts: tuple[str, ...]) -> list[bytes]:
    try:
        return [export_bytes(model, opset, part) for part in parts]
    except Exception as err:  # torch.onnx raises many types; the caller can run torch instead
        raise ExportUnavailable(st_path, f"ONNX export failed ({first_line(err)[:200]})") from None


def cached_graphs(
    weights: str | os.PathLike,
    opset: int = DEFAULT_OPSET,
    parts: tuple[str, ...] = ("full",),
    refresh: bool = False,
) -> list[Path | bytes]:
    """The ONNX exports (`parts` as export_bytes) of a `.safetensors` file, made once and kept
    in the cache (made again with `refresh`); made in memory instead (each run) when the cache
    folder cannot be written. ExportUnavailable when they are not cached and cannot be made."""
    st_path, json_path = _weight_files(weights)
    paths = [_cache_path(st_path, json_path, opset, part) for part in parts]
    if all(p.is_file() for p in paths) and not refresh:
        return list(paths)
    model = _load_for_export(st_path)
    folder = paths[0].parent
    problem = _unwritable(folder)
    where = f"in memory (cannot write {folder}: {problem})" if problem else f"once into {folder}"
    print(f"wildmatte: exporting {st_path.name} to ONNX {where}", file=sys.stderr)
    graphs = _export_all(model, st_path, opset, parts)
    if problem:
        return list(graphs)
    try:
        return [write_bytes(p, g) for p, g in zip(paths, graphs)]
    except OSError:  # the folder filled up or went away meanwhile: the graphs still work
        return list(graphs)


def cached_export(
    weights: str | os.PathLike, opset: int = DEFAULT_OPSET, part: str = "full"
) -> Path | bytes:
    """One graph of cached_graphs: a path in the cache, or the bytes where it is unwritable."""
    return cached_graphs(weights, opset, (part,))[0]


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise InputError(
            "--engine onnx", "needs onnxruntime: pip install 'wildmatte[onnx]'"
        ) from None
    return onnxruntime


def session_options(threads: int | None = None):
    """Full graph optimisation (folds batch norm into convs, fuses conv + relu)."""
    ort = _ort()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
    return opts


def _session(graph: Graph, threads: int | None = None):
    """An onnxruntime session of an ONNX file, or of a graph in memory (bytes)."""
    ort = _ort()
    name = "ONNX graph in memory" if isinstance(graph, bytes) else Path(graph)
    if not isinstance(graph, bytes) and not Path(graph).is_file():
        raise InputError(name, "ONNX file not found")
    source = graph if isinstance(graph, bytes) else str(graph)
    try:
        return ort.InferenceSession(
            source, session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # onnxruntime raises its own exception types
        raise InputError(name, f"cannot load ONNX model ({first_line(err)[:200]})") from None


def _padded(image: np.ndarray, guidance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1×3×H'×W' and 1×1×H'×W' float32 arrays padded on the bottom/right to multiples of 32, by
    reflection as PRNEngine does (replication where a side is shorter than its pad)."""
    h, w = guidance.shape
    img = np.ascontiguousarray(image.transpose(2, 0, 1), np.float32)[None]
    gd = np.ascontiguousarray(guidance, np.float32)[None, None]
    ph, pw = (-h) % 32, (-w) % 32
    if ph or pw:
        pad = ((0, 0), (0, 0), (0, ph), (0, pw))
        mode = "edge" if ph >= h or pw >= w else "reflect"
        img, gd = np.pad(img, pad, mode), np.pad(gd, pad, mode)
    return img, gd


class OnnxEngine:
    """An ONNX file (from `wildmatte export onnx`), or its graph in memory, run by onnxruntime
    on the CPU."""

    name = "onnx"

    def __init__(self, graph: Graph, threads: int | None = None) -> None:
        self.session = _session(graph, threads)

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        h, w = guidance.shape
        img, gd = _padded(image, guidance)
        (alpha,) = self.session.run(["alpha"], {"image": img, "guidance": gd})
        return alpha[0, 0, :h, :w]


class BandOnnxEngine:
    """The same alpha as OnnxEngine from two graphs, the 1/1 head run only on windows around
    its band (inference/band_fine.py): about 1.1× faster on a CPU (docs/deploy.md)."""

    name = "onnx"

    def __init__(self, coarse: Graph, fine: Graph, threads: int | None = None) -> None:
        self.coarse = _session(coarse, threads)
        self.fine = _session(fine, threads)

    def _fine(self, x: np.ndarray, stem: np.ndarray, d4: np.ndarray) -> np.ndarray:
        feed = {"x": np.ascontiguousarray(x), "stem": np.ascontiguousarray(stem)}
        return self.fine.run(["alpha_os1"], {**feed, "d4": np.ascontiguousarray(d4)})[0]

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        h, w = guidance.shape
        img, gd = _padded(image, guidance)
        x, stem, d4, alpha, band = self.coarse.run(None, {"image": img, "guidance": gd})
        band = band[0, 0] > 0
        alpha = np.where(band, fine_in_band(self._fine, x, stem, d4, band), alpha[0, 0])
        return np.clip(alpha[:h, :w], 0.0, 1.0)


def onnx_engine(
    weights: str | os.PathLike | None, default: Path, threads: int | None = None
) -> OnnxEngine | BandOnnxEngine:
    """An `.onnx` file as is; a `.safetensors` file (or None: the bundled default) exported to
    the cache on first use, as the two graphs of BandOnnxEngine (ExportUnavailable when they
    are not cached and cannot be made)."""
    if weights is not None and str(weights).endswith(".onnx"):
        return OnnxEngine(weights, threads)
    weights = default if weights is None else weights
    coarse, fine = cached_graphs(weights, parts=("coarse", "fine"))
    _ort()  # a missing onnxruntime is not a damaged cache
    try:
        return BandOnnxEngine(coarse, fine, threads)
    except InputError as err:
        if isinstance(coarse, bytes):  # made just now, in memory: nothing cached to blame
            raise
        # A cache file cut short or changed on disk would otherwise fail every run from now on.
        print(f"wildmatte: {err}: exporting it again", file=sys.stderr)
        coarse, fine = cached_graphs(weights, parts=("coarse", "fine"), refresh=True)
        return BandOnnxEngine(coarse, fine, threads)
