"""The default engine against closed-form on real benchmark images, not a synthetic one.

`wildmatte bench speed` times a smooth-noise square, on which closed-form converges slowly. Here
each case of a benchmark folder (e.g. the wild set's tune split) is resized to a long side of
`--side`, and the default engine (what `wildmatte predict` runs) and closed-form (with the
trimap preset of the guidance kind) are timed one after the other on it, after one warm-up of
each. Prints the per-case ratio and its median per guidance kind; `--json` keeps them.
`--weights` times other weights than the bundled default; `--band-solve` also times the default
engine with its band refined by closed-form (`predict --band-solve`).

    python benchmarks/speed_real.py DATA [--side 1024] [--limit 12] [--json out.json]
        [--weights W.safetensors] [--band-solve]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from wildmatte.evaluation.layouts import GUIDANCE, load_cases, read_inputs
from wildmatte.inference.band_solve import BandSolveEngine
from wildmatte.inference.engines import default_engine_name, get_engine
from wildmatte.inference.pymatting_import import load_pymatting


def resized(image: np.ndarray, guidance: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = guidance.shape
    size = (round(w * side / max(h, w)), round(h * side / max(h, w)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    return image, cv2.resize(guidance, size, interpolation=cv2.INTER_NEAREST)


def seconds(engine, image: np.ndarray, guidance: np.ndarray) -> float:
    start = time.perf_counter()
    engine(image, guidance)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("--side", type=int, default=1024)
    p.add_argument("--limit", type=int, default=12, help="cases per guidance kind")
    p.add_argument("--json", type=Path)
    p.add_argument("--weights", help="default: the bundled weights")
    p.add_argument("--band-solve", action="store_true", help="also time the band solve")
    args = p.parse_args()
    load_pymatting()
    name = default_engine_name(args.weights)
    default = get_engine(name, args.weights)
    band = BandSolveEngine(default) if args.band_solve else None
    cases, _ = load_cases(args.data)
    rows = []
    for kind in GUIDANCE:
        closed_form = get_engine("classic", trimap=kind)
        for i, case in enumerate(cases[: args.limit]):
            inputs = read_inputs(case, kind)
            image, guidance = resized(inputs.image, inputs.guidance, args.side)
            if i == 0:  # warm-up: onnxruntime's first run, numba's compilation
                default(image, guidance), closed_form(image, guidance)
                if band:
                    band(image, guidance)
            ours, cf = seconds(default, image, guidance), seconds(closed_form, image, guidance)
            row = {"case": case.name, "guidance": kind, "default_s": ours, "cf_s": cf}
            line = (
                f"{kind} {case.name}: {name} {ours:.2f} s, closed-form {cf:.2f} s, {ours / cf:.2f}×"
            )
            if band:
                row["band_s"] = seconds(band, image, guidance)
                line += f"; with the band solve {row['band_s']:.2f} s, {row['band_s'] / cf:.2f}×"
            rows.append(row)
            print(line)
    summary = {}
    for kind in GUIDANCE:
        got = [r for r in rows if r["guidance"] == kind]
        ratios = [r["default_s"] / r["cf_s"] for r in got]
        summary[kind] = {
            "cases": len(got),
            "median_default_s": float(np.median([r["default_s"] for r in got])),
            "median_cf_s": float(np.median([r["cf_s"] for r in got])),
            "median_ratio": float(np.median(ratios)),
            "worst_ratio": float(np.max(ratios)),
            "share_at_most_half": float(np.mean(np.array(ratios) <= 0.5)),
        }
        if band:
            summary[kind]["median_band_s"] = float(np.median([r["band_s"] for r in got]))
            summary[kind]["median_band_ratio"] = float(
                np.median([r["band_s"] / r["cf_s"] for r in got])
            )
        s = summary[kind]
        print(
            f"{kind}: {s['cases']} cases, default ({name}) {s['median_default_s']:.2f} s, "
            f"closed-form {s['median_cf_s']:.2f} s, median ratio {s['median_ratio']:.2f}× "
            f"(worst {s['worst_ratio']:.2f}×, ≤ 0.5× on {100 * s['share_at_most_half']:.0f} %)"
            + (
                f"; with the band solve {s['median_band_s']:.2f} s, {s['median_band_ratio']:.2f}×"
                if band
                else ""
            )
        )
    if args.json:
        result = {"data": str(args.data), "side": args.side, "engine": name, "rows": rows}
        result["weights"] = args.weights or "bundled default"
        args.json.write_text(json.dumps({**result, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
