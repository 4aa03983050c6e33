"""Validation table and picture for a model card: PRN weights vs the classic engine vs the
guidance mask itself, on the held-out validation composites of a training config.

Run: .venv/bin/python experiments/validate_model.py --weights wildmatte/weights/default.safetensors \
        --config experiments/configs/open-default.yaml --grid docs/validation_grid.png
Prints Markdown tables (means over the set; SAD, Grad, Conn /1000) per guidance variant: the
metrics, then SAD_BG split by how far outside the guidance mask the error lies.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import cv2
import numpy as np

from wildmatte.data.dataset import build_val_set
from wildmatte.evaluation.metrics import evaluate, sad_bg_by_distance
from wildmatte.files import write_json
from wildmatte.inference.engines import get_engine
from wildmatte.inference.io import write_png
from wildmatte.training.config import deep_merge, load_config

METRICS = ("SAD", "MSE", "Grad", "Conn", "SAD_FG", "SAD_BG")


def run_engine(engine, samples: list[dict]) -> tuple[dict[str, float], list[np.ndarray]]:
    scores: dict[str, list[float]] = defaultdict(list)
    preds, seconds = [], 0.0
    for s in samples:
        image, guidance = s["image"].numpy().transpose(1, 2, 0), s["guidance"][0].numpy()
        start = time.perf_counter()
        # Scored as the 8-bit PNG the tool writes, like the DIM evaluation.
        pred = np.rint(engine(image, guidance) * 255) / 255
        seconds += time.perf_counter() - start
        gt = s["alpha"][0].numpy()
        for k, v in (evaluate(pred, gt) | sad_bg_by_distance(pred, gt, guidance)).items():
            scores[k].append(v)
        preds.append(pred)
    means = {k: float(np.mean(v)) for k, v in scores.items()}
    means["s/image"] = seconds / len(samples)
    return means, preds


def table(results: dict[str, dict[str, float]], cols: tuple[str, ...]) -> str:
    lines = ["| engine | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in results.items():
        cells = [f"{r[c]:.4f}" if c == "MSE" else f"{r[c]:.2f}" for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def grid(samples: list[dict], preds: dict[str, list[np.ndarray]], rows: int) -> np.ndarray:
    """Rows of: image with guidance outline, one column per engine, GT."""
    tiles = []
    for i in range(min(rows, len(samples))):
        image = samples[i]["image"].numpy().transpose(1, 2, 0).copy()
        guide = samples[i]["guidance"][0].numpy().astype(np.uint8)
        contours, _ = cv2.findContours(guide, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(image, contours, -1, (1.0, 0.2, 0.2), 2)
        grey = [np.repeat(p[i][..., None], 3, 2) for p in preds.values()]
        gt = np.repeat(samples[i]["alpha"][0].numpy()[..., None], 3, 2)
        tiles.append(np.hstack([image, *grey, gt]))
    return np.vstack(tiles)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True)
    p.add_argument("--config", default="experiments/configs/open-default.yaml")
    p.add_argument("--n", type=int, help="override the number of validation samples")
    p.add_argument("--engines", nargs="+", default=["prn", "classic", "guidance"])
    p.add_argument("--grid", help="write a PNG grid (paper guidance) here")
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--json", help="write the figures as JSON here")
    args = p.parse_args()

    data = load_config(args.config)["data"]
    out: dict[str, dict] = {}
    for variant in ("paper", "noisy"):
        val = {"guidance": variant, **({"n": args.n} if args.n else {})}
        samples = build_val_set(deep_merge(data, {"val": val}))
        results, preds = {}, {}
        for name in args.engines:
            engine = get_engine(name, args.weights if name == "prn" else None, "cpu")
            results[name], preds[name] = run_engine(engine, samples)
        out[variant] = results
        print(f"\n{variant} guidance, {len(samples)} validation composites:\n")
        print(table(results, (*METRICS, "s/image")))
        print(f"\nSAD_BG by distance outside the guidance mask ({variant}):\n")
        # sad_bg_by_distance's keys, in its order: everything after SAD_BG's own columns.
        split = tuple(k for k in next(iter(results.values())) if k not in (*METRICS, "s/image"))
        print(table(results, split))
        if args.grid and variant == "paper":
            write_png(args.grid, grid(samples, preds, args.rows))
            print(f"\ngrid: {args.grid} (columns: image+guidance, {', '.join(preds)}, GT)")
    if args.json:
        write_json(args.json, out)


if __name__ == "__main__":
    main()
