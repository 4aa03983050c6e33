"""ONNX: export a PRN (progressive fusion included) and run it with onnxruntime.

The graph takes `image` (N×3×H×W float32 RGB in [0, 1]) and `guidance` (N×1×H×W float32 in
{0, 1}) of any H and W, pads them inside to multiples of 32 (reflection, as PRNEngine does) and
returns `alpha` (N×1×H×W, clamped to [0, 1]).
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from wildmatte.errors import InputError
from wildmatte.files import atomic_write
from wildmatte.model import PRN

DEFAULT_OPSET = 17


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


def export_onnx(model: PRN, path: str | os.PathLike, opset: int = DEFAULT_OPSET) -> Path:
    """Write `model` as an ONNX file (dynamic N, H, W), atomically; returns the path."""
    graph = AlphaGraph(model.cpu().float()).eval()
    image, guidance = torch.rand(1, 3, 96, 128), torch.ones(1, 1, 96, 128)
    dims = {0: "batch", 2: "height", 3: "width"}

    def write(tmp: str) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            # The tracer warns about shape arithmetic turned into graph ops: that is intended.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph,
                (image, guidance),
                tmp,
                input_names=["image", "guidance"],
                output_names=["alpha"],
                dynamic_axes={"image": dims, "guidance": dims, "alpha": dims},
                opset_version=opset,
                dynamo=False,
            )

    return atomic_write(path, write)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """$WILDMATTE_CACHE, else $XDG_CACHE_HOME/wildmatte, else ~/.cache/wildmatte."""
    if os.environ.get("WILDMATTE_CACHE"):
        return Path(os.environ["WILDMATTE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wildmatte"


def cached_export(weights: str | os.PathLike, opset: int = DEFAULT_OPSET) -> Path:
    """The ONNX export of a `.safetensors` file, made once and kept in the cache, keyed by the
    weights' (and config's) sha256, the opset and the torch version that exported it."""
    from wildmatte.model import load_model, weight_paths

    st_path, json_path = weight_paths(weights)
    for f in (st_path, json_path):
        if not f.is_file():
            raise InputError(f, "weights file not found")
    key = hashlib.sha256(
        f"{sha256_file(st_path)}{sha256_file(json_path)}{opset}{torch.__version__}".encode()
    ).hexdigest()[:24]
    path = cache_dir() / "onnx" / f"{st_path.stem}-{key}.onnx"
    if not path.is_file():
        print(f"wildmatte: exporting {st_path.name} to ONNX once: {path}", file=sys.stderr)
        export_onnx(load_model(st_path), path, opset)
    return path


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


class OnnxEngine:
    """An ONNX file (from `wildmatte export onnx`) run by onnxruntime on the CPU."""

    name = "onnx"

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        ort = _ort()
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(self.path, "ONNX file not found")
        try:
            self.session = ort.InferenceSession(
                str(self.path), session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception types
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise InputError(self.path, f"cannot load ONNX model ({first[:200]})") from None

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        h, w = guidance.shape
        img = np.ascontiguousarray(image.transpose(2, 0, 1), np.float32)[None]
        gd = np.ascontiguousarray(guidance, np.float32)[None, None]
        ph, pw = (-h) % 32, (-w) % 32
        if ph >= h or pw >= w:
            # Reflection needs a side longer than its pad: tiny images are padded here instead,
            # by replication as PRNEngine does.
            pad = ((0, 0), (0, 0), (0, ph), (0, pw))
            img, gd = np.pad(img, pad, "edge"), np.pad(gd, pad, "edge")
        (alpha,) = self.session.run(["alpha"], {"image": img, "guidance": gd})
        return alpha[0, 0, :h, :w]


def onnx_engine(weights: str | os.PathLike | None, default: Path) -> OnnxEngine:
    """An `.onnx` file as is; a `.safetensors` file (or None: the bundled default) exported to
    the cache on first use."""
    if weights is not None and str(weights).endswith(".onnx"):
        return OnnxEngine(weights)
    return OnnxEngine(cached_export(default if weights is None else weights))
