"""`wildmatte export onnx`: the model (progressive fusion included) as an ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path

from wildmatte.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export the model for deployment (ONNX)")
    formats = p.add_subparsers(dest="format", required=True)
    onnx = formats.add_parser(
        "onnx",
        help="ONNX file: inputs image (N×3×H×W RGB in [0, 1]) and guidance (N×1×H×W in "
        "{0, 1}), output alpha (N×1×H×W); H and W dynamic",
    )
    onnx.add_argument("--out", type=Path, required=True, help="the .onnx file to write")
    onnx.add_argument("--weights", help=".safetensors file (default: the bundled weights)")
    onnx.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    onnx.set_defaults(func=run_onnx)


def run_onnx(args) -> int:
    from wildmatte.inference.engines import DEFAULT_WEIGHTS
    from wildmatte.inference.onnx_engine import DEFAULT_OPSET, export_onnx
    from wildmatte.model import load_model

    if args.out.suffix.lower() != ".onnx":
        raise InputError(args.out, "output must be a .onnx file")
    opset = args.opset or DEFAULT_OPSET
    if not 14 <= opset <= 20:
        raise InputError("--opset", f"{opset} is not supported (14 to 20)")
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
    except ImportError:
        raise InputError(
            "wildmatte export onnx", "needs onnx: pip install 'wildmatte[onnx]'"
        ) from None
    model = load_model(args.weights or DEFAULT_WEIGHTS)
    path = export_onnx(model, args.out, opset)
    print(f"wrote {path} (opset {opset}; inputs image, guidance; output alpha)")
    return 0
