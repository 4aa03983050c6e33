"""Where do interior holes come from, and which fusion removes them? (issue 16, part 2)

For every case of a tune set and both guidance kinds, the PRN runs once; then the three heads are
fused in several ways and each variant is scored (SAD, SAD_FG, SAD_BG, interior-hole share):
- base: the shipped fusion (1/8, then 1/4 and 1/1 inside the coarser head's uncertain band);
- os8 / os4: a single head, to see which one first has the holes;
- deepN-*: inside the guidance eroded by N px (deep interior, where no true edge of a
  paper-style mask can be), the finer heads are not let in: -os4 keeps the 1/4 fusion there,
  -os8 the 1/8 head.
Usage: python experiments/hole_fusion.py SET_DIR [--weights W] [--out JSON] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from wildmatte.evaluation.layouts import load_cases, read_inputs
from wildmatte.evaluation.metrics import interior_holes, sad, sad_bg, sad_fg
from wildmatte.inference.engines import DEFAULT_WEIGHTS, pad_to_multiple
from wildmatte.model import load_model
from wildmatte.model.fusion import max_filter, uncertain_band

DEPTHS = (8, 16, 32, 64)


def heads(model, image: np.ndarray, guidance: np.ndarray) -> dict[str, torch.Tensor]:
    img = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    gd = torch.from_numpy(np.ascontiguousarray(guidance))[None, None]
    x, (h, w) = pad_to_multiple(torch.cat([img, gd], dim=1).float())
    with torch.inference_mode():
        out = model(x[:, :3], x[:, 3:])
    return {k: v[..., :h, :w] for k, v in out.items()} | {"guidance": gd.float()}


def deep_interior(guidance: torch.Tensor, depth: int) -> torch.Tensor:
    """Guidance pixels at least `depth` px (square) from its outside."""
    outside = max_filter(1 - guidance, depth)
    return (guidance > 0.5) & (outside < 0.5)


def variants(o: dict) -> dict[str, torch.Tensor]:
    os8, os4 = o["alpha_os8"], o["alpha_os4"]
    fused4 = torch.where(uncertain_band(os8, 15), os4, os8)
    out = {"base": o["alpha"], "os8": os8, "os4": fused4}
    for depth in DEPTHS:
        deep = deep_interior(o["guidance"], depth)
        out[f"deep{depth}-os4"] = torch.where(deep, fused4, o["alpha"])
        out[f"deep{depth}-os8"] = torch.where(deep, os8, o["alpha"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--out", type=Path, default=Path("experiments/results/hole_fusion.json"))
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    model = load_model(args.weights).eval()
    cases, _ = load_cases(args.set)
    cases = cases[: args.limit or None]
    scores: dict = {}
    for kind in ("paper", "noisy"):
        for i, case in enumerate(cases):
            print(f"{kind} {i}/{len(cases)} {time.strftime('%H:%M:%S')}", flush=True)
            inputs = read_inputs(case, kind)
            for name, alpha in variants(heads(model, inputs.image, inputs.guidance)).items():
                pred = alpha[0, 0].clamp(0, 1).numpy()
                row = scores.setdefault(kind, {}).setdefault(name, [])
                row.append(
                    [
                        sad(pred, inputs.gt),
                        sad_fg(pred, inputs.gt),
                        sad_bg(pred, inputs.gt),
                        interior_holes(pred, inputs.gt),
                    ]
                )
    summary = {
        kind: {
            name: dict(zip(["sad", "sad_fg", "sad_bg", "holes"], np.nanmean(rows, 0).tolist()))
            for name, rows in by_name.items()
        }
        for kind, by_name in scores.items()
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"set": str(args.set), "weights": args.weights, "n": len(cases), "mean": summary},
            indent=1,
        )
    )
    for kind, by_name in summary.items():
        for name, m in by_name.items():
            print(f"{kind:6s} {name:12s} " + " ".join(f"{k} {v:.4f}" for k, v in m.items()))


if __name__ == "__main__":
    main()
