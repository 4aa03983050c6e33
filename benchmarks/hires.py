"""Big photos: quality of the coarse-to-fine path on upscaled Composition-Wild, and the peak
memory and time of `wildmatte predict` at 12 and 27 MP.

Quality: each case of a Composition-Wild folder (`wildmatte bench build-cwild`) is upscaled
×4 and ×7.5 (image bicubic, guidance nearest, true alpha bilinear) and matted three ways:
`hires` (the default path: global pass + refined tiles), `global` (the global pass alone,
upsampled: "as good as at the working resolution") and, where it fits (≤ --direct-max-mp),
`direct` (the whole network at full resolution). Figures: SAD per megapixel (sum |α − α*| /
1000 / MP) and IoU of α ≥ 0.5 with α* ≥ 0.5, averaged over cases.

Cost: a photo of 12 MP (4000×3000) and 27 MP (6000×4500) made by upscaling the first case,
run by `wildmatte predict` (the CLI's code path) in a fresh process each, which reports its
wall time, CPU time and peak resident memory (getrusage ru_maxrss: the whole process, the
libraries included). On a loaded machine the wall time is inflated; CPU time much less so.

    python benchmarks/hires.py --data /tmp/cw512 [--limit 4] [--engine prn|onnx]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from wildmatte.evaluation.layouts import load_cases, read_inputs
from wildmatte.inference.engines import default_engine_name, get_engine
from wildmatte.inference.hires import HiresEngine, HiresOptions, global_pass
from wildmatte.inference.io import to_uint

_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from wildmatte.interfaces.cli import main
code = main(sys.argv[1:])
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "seconds": time.perf_counter() - start,
                  "cpu_seconds": use.ru_utime + use.ru_stime, "peak_mib": use.ru_maxrss / 1024}))
"""


def engine_name(args) -> str:
    return default_engine_name(args.weights, "cpu") if args.engine == "default" else args.engine


def upscale(image: np.ndarray, guidance: np.ndarray, gt: np.ndarray, factor: float):
    h, w = gt.shape
    size = (round(w * factor), round(h * factor))
    return (
        np.clip(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), 0, 1),
        cv2.resize(guidance, size, interpolation=cv2.INTER_NEAREST),
        cv2.resize(gt, size, interpolation=cv2.INTER_LINEAR),
    )


def scores(alpha: np.ndarray, gt: np.ndarray) -> dict:
    mp = gt.size / 1e6
    a, b = alpha >= 0.5, gt >= 0.5
    union = (a | b).sum()
    return {
        "sad_per_mp": float(np.abs(alpha - gt).sum() / 1000 / mp),
        "iou": float((a & b).sum() / union) if union else 1.0,
    }


def quality(args) -> dict:
    base = get_engine(engine_name(args), args.weights, "cpu")
    options = HiresOptions(max_pixels=0, tile_guidance=args.tile_guidance)
    hires = HiresEngine(base, options, notify=lambda _: None)
    cases, _ = load_cases(args.data)
    rows: dict = {}
    for factor in args.factors:
        for case in cases[: args.limit]:
            inputs = read_inputs(case, "paper")
            image, guidance, gt = upscale(inputs.image, inputs.guidance, inputs.gt, factor)
            ways = {
                "hires": hires,
                "global": partial(global_pass, base, work_side=hires.options.work_side),
            }
            if gt.size / 1e6 <= args.direct_max_mp:
                ways["direct"] = base
            for way, run in ways.items():
                start = time.perf_counter()
                alpha = run(image, guidance)
                got = {**scores(alpha, gt), "seconds": time.perf_counter() - start}
                if way == "hires":
                    got["tiles"] = hires.last_tiles
                rows.setdefault(f"×{factor:g} {way}", []).append(got)
            print(f"×{factor:g} {case.name}: {gt.shape[1]}×{gt.shape[0]}", file=sys.stderr)
    return {k: {m: float(np.mean([r[m] for r in v])) for m in v[0]} for k, v in rows.items()}


def cost(args, folder: Path) -> dict:
    cases, _ = load_cases(args.data)
    inputs = read_inputs(cases[0], "paper")
    out = {}
    for label, (w, h) in {"12 MP": (4000, 3000), "27 MP": (6000, 4500)}.items():
        image, guidance, _ = upscale(inputs.image, inputs.guidance, inputs.gt, 1.0)
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_CUBIC)
        guidance = cv2.resize(guidance, (w, h), interpolation=cv2.INTER_NEAREST)
        img_path, mask_path = folder / f"{w}x{h}.png", folder / f"{w}x{h}_mask.png"
        cv2.imwrite(str(img_path), cv2.cvtColor(to_uint(image), cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(mask_path), to_uint(guidance))
        cli = ["predict", str(img_path), "--mask", str(mask_path), "-o", str(folder / "a.png")]
        cli += ["--engine", engine_name(args)] + (
            ["--weights", args.weights] if args.weights else []
        )
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *cli], capture_output=True, text=True, check=False
        )
        lines = done.stdout.strip().splitlines()
        out[label] = json.loads(lines[-1]) if lines else {"error": done.stderr[-300:]}
        print(f"{label}: {out[label]}", file=sys.stderr)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="a Composition-Wild folder")
    p.add_argument("--limit", type=int, default=4, help="cases per factor (default 4)")
    p.add_argument("--factors", type=float, nargs="+", default=[4.0, 7.5])
    p.add_argument("--engine", default="default", choices=("default", "prn", "onnx"))
    p.add_argument("--weights", help="default: the bundled weights")
    p.add_argument("--direct-max-mp", type=float, default=4.5, help="skip `direct` above this")
    p.add_argument("--tile-guidance", choices=("global", "mask"), default="global")
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-cost", action="store_true")
    args = p.parse_args()
    result = {}
    if not args.skip_quality:
        result["quality"] = quality(args)
        for key, row in result["quality"].items():
            print(f"{key:>14}: " + ", ".join(f"{m} {v:.3f}" for m, v in row.items()))
    if not args.skip_cost:
        with tempfile.TemporaryDirectory() as tmp:
            result["cost"] = cost(args, Path(tmp))
        for key, row in result["cost"].items():
            print(f"{key}: {row}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
