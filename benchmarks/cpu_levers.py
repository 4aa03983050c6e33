"""CPU speed levers for the default model, one by one, timed interleaved with closed-form.

Every round times each variant once on the same synthetic input (wildmatte.evaluation.speed's),
so a shared, loaded machine slows all of them alike; the medians' ratio to closed-form is the
figure to read. Accuracy: each variant's alpha against the torch reference (max and mean
|Δα|) and against the true alpha (SAD) on the cases of a Composition-Wild folder.

    python benchmarks/cpu_levers.py --size 1024 --rounds 3 [--data CW1024] [--int8-data CW512]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from wildmatte.evaluation.layouts import load_cases, read_inputs
from wildmatte.evaluation.metrics import sad
from wildmatte.evaluation.speed import synthetic_inputs
from wildmatte.inference.engines import DEFAULT_WEIGHTS, PRNEngine, get_engine, load_prn
from wildmatte.inference.onnx_engine import BandOnnxEngine, OnnxEngine, cached_export
from wildmatte.inference.pymatting_import import load_pymatting


def folded(threads: int) -> PRNEngine:
    """Torch with batch norm folded into the convolutions (torch.fx) and channels-last."""
    from torch.fx.experimental.optimization import fuse

    model = fuse(load_prn(None, torch.device("cpu")))
    model = model.to(memory_format=torch.channels_last)
    torch.set_num_threads(threads)
    return PRNEngine(model, torch.device("cpu"))


def quantized(onnx_path: Path, data: Path, out: Path, n: int = 6) -> Path:
    """Static int8 (QDQ, per-channel weights) of the convolutions, calibrated on n cases."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    cases, _ = load_cases(data)
    feeds = []
    for case in cases[:n]:
        x = read_inputs(case, "paper")
        image = np.ascontiguousarray(x.image.transpose(2, 0, 1)[None], np.float32)
        feeds.append({"image": image, "guidance": x.guidance[None, None].astype(np.float32)})

    class Reader:
        def __init__(self) -> None:
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    pre = out.with_suffix(".pre.onnx")
    quant_pre_process(str(onnx_path), str(pre), skip_symbolic_shape=True)
    quantize_static(
        str(pre),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
        op_types_to_quantize=["Conv"],
    )
    return out


def variants(args) -> dict:
    onnx_path = cached_export(DEFAULT_WEIGHTS)
    out = {
        "closed-form": get_engine("classic"),
        "torch": get_engine("prn", None, "cpu"),
        "torch+bn-fold+channels-last": folded(torch.get_num_threads()),
        "onnxruntime 2 threads": OnnxEngine(onnx_path, threads=2),
        "onnxruntime 1 thread": OnnxEngine(onnx_path, threads=1),
        "onnxruntime, 1/1 head on its band (the default)": BandOnnxEngine(
            cached_export(DEFAULT_WEIGHTS, part="coarse"),
            cached_export(DEFAULT_WEIGHTS, part="fine"),
        ),
    }
    if args.int8_data:
        q = quantized(onnx_path, args.int8_data, Path(tempfile.mkdtemp()) / "int8.onnx")
        out["onnxruntime int8"] = OnnxEngine(q, threads=2)
    return out


def timing(engines: dict, size: int, rounds: int) -> dict:
    image, guidance = synthetic_inputs(size)
    for engine in engines.values():
        engine(image, guidance)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(rounds):
        for name, engine in engines.items():
            start = time.perf_counter()
            engine(image, guidance)
            times[name].append(time.perf_counter() - start)
    cf = float(np.median(times["closed-form"]))
    return {
        n: {"median_ms": 1e3 * float(np.median(t)), "ratio": float(np.median(t)) / cf}
        for n, t in times.items()
    }


def accuracy(engines: dict, data: Path, limit: int) -> dict:
    cases, _ = load_cases(data)
    rows: dict[str, list] = {n: [] for n in engines}
    for case in cases[:limit]:
        inputs = read_inputs(case, "paper")
        ref = engines["torch"](inputs.image, inputs.guidance)
        for name, engine in engines.items():
            alpha = engine(inputs.image, inputs.guidance)
            diff = np.abs(alpha - ref)
            rows[name].append((diff.max(), diff.mean(), sad(alpha, inputs.gt)))
    return {
        n: dict(zip(("max_diff", "mean_diff", "sad"), map(float, np.mean(r, axis=0))))
        for n, r in rows.items()
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--data", type=Path, help="Composition-Wild folder for the accuracy check")
    p.add_argument("--limit", type=int, default=4)
    p.add_argument("--int8-data", type=Path, help="also int8, calibrated on this CW folder")
    args = p.parse_args()
    load_pymatting()
    engines = variants(args)
    result = {"threads": torch.get_num_threads(), "timing": timing(engines, args.size, args.rounds)}
    for name, row in result["timing"].items():
        print(f"{name:>32}: {row['median_ms']:8.0f} ms  {row['ratio']:.2f}× closed-form")
    if args.data:
        result["accuracy"] = accuracy(engines, args.data, args.limit)
        for name, row in result["accuracy"].items():
            print(f"{name:>32}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
