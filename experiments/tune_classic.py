"""Tune the classic peers' trimap on the independent benchmark's TUNE split, per guidance kind.

Closed-form matting is run on every tune case for each setting of a small coordinate search
(erosion first, then the band outside the mask); the setting with the lowest mean SAD wins and
becomes wildmatte.inference.engines.TRIMAPS[kind]. KNN and large-kernel matting share it.
Usage: python experiments/tune_classic.py TUNE_SET_DIR [--out experiments/results/tune_classic.json]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from wildmatte.evaluation.layouts import load_cases, read_inputs
from wildmatte.evaluation.metrics import sad
from wildmatte.inference.engines import ClassicEngine, Trimap

# A fixed floor in pixels and a share of the mask's box, since errors of a paper-style mask are
# fixed in pixels and those of a segmenter-like mask grow with the object.
ERODE = {
    "paper": [Trimap(erode_px=e, erode_frac=0.0) for e in (15, 30, 45, 60)],
    "noisy": [Trimap(erode_px=15, erode_frac=f) for f in (0.05, 0.1, 0.2)],
}
DILATE_PX = (0, 12)
DILATE_FRAC = (0.0, 0.06)


def mean_sad(cases, kind: str, spec: Trimap) -> float:
    engine = ClassicEngine("cf", trimap=spec)
    scores = []
    for case in cases:
        inputs = read_inputs(case, kind)
        scores.append(sad(engine(inputs.image, inputs.guidance), inputs.gt))
    return float(np.mean(scores))


def search(cases, kind: str, log: list) -> Trimap:
    def run(spec: Trimap) -> float:
        start = time.perf_counter()
        value = mean_sad(cases, kind, spec)
        log.append({"kind": kind, **asdict(spec), "sad": value})
        print(f"{kind:6s} {spec} SAD {value:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
        return value

    scored = {spec: run(spec) for spec in ERODE[kind]}
    best = min(scored, key=scored.get)
    bands = [replace(best, dilate_px=d) for d in DILATE_PX[1:]]
    bands += [replace(best, dilate_frac=f) for f in DILATE_FRAC[1:]]
    scored.update({spec: run(spec) for spec in bands})
    return min(scored, key=scored.get)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tune_set", type=Path)
    parser.add_argument("--out", type=Path, default=Path("experiments/results/tune_classic.json"))
    parser.add_argument("--kinds", nargs="+", default=["paper", "noisy"])
    parser.add_argument("--limit", type=int, default=0, help="use the first N cases only")
    args = parser.parse_args()
    cases, _ = load_cases(args.tune_set)
    cases = cases[: args.limit or None]
    log: list = []
    best = {kind: asdict(search(cases, kind, log)) for kind in args.kinds}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"set": str(args.tune_set), "n": len(cases), "best": best, "runs": log}, indent=1
        )
    )
    print(json.dumps(best))


if __name__ == "__main__":
    main()
