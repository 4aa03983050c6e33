"""Does a closed-form solve inside the network's band close what the encoder alone does not?
(issue 24, part 4: fine strands and see-through objects, where closed-form still wins)

For every case of a tune set, a PRN engine's alpha is read from a `wildmatte bench eval` folder.
Its band of doubt (lo < α < hi, widened by `grow` px) becomes the unknown region of a trimap
whose sure parts come from the network; closed-form matting (pymatting) solves it, started from
nothing but the image (wildmatte.inference.band_solve, the engine option `--band-solve`).
Variants: `net` (the network as it is), `cf-gG` (the solve replaces the network inside the
band), `mean-gG` (their average there). Scored per category.
Usage: python experiments/band_solve.py SET_DIR EVAL_DIR LABEL [--out JSON] [--limit N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from wildmatte.data.imageio import read_alpha
from wildmatte.evaluation.layouts import load_cases, read_inputs
from wildmatte.evaluation.metrics import interior_holes, sad, sad_bg
from wildmatte.evaluation.stats import paired_bootstrap
from wildmatte.inference.band_solve import BandOptions, refine

GROWS = (0, 6)
CATEGORIES = ("opaque", "fine", "partial", "occluded", "interior")


def variants(image: np.ndarray, alpha: np.ndarray) -> dict[str, np.ndarray]:
    """The network, the solve alone in its band (cf) and their average there (mean)."""
    out = {"net": alpha}
    for grow in GROWS:
        out[f"cf-g{grow}"] = refine(image, alpha, BandOptions(grow=grow, mix=1.0))
        out[f"mean-g{grow}"] = refine(image, alpha, BandOptions(grow=grow, mix=0.5))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("eval_dir", type=Path, help="a `bench eval --out` folder")
    ap.add_argument("label", help="the PRN engine's label in that folder")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    folder = args.eval_dir / "predictions" / args.label
    guidance = json.loads((folder / "run.json").read_text())["fingerprint"].rsplit("|", 1)[1]
    cases, _ = load_cases(args.set_dir)
    rows: dict[str, dict[str, dict]] = {}
    for case in cases[: args.limit]:
        inputs = read_inputs(case, guidance)
        alpha = read_alpha(folder / f"{case.name}.png")
        for name, pred in variants(inputs.image, alpha).items():
            rows.setdefault(name, {})[case.name] = {
                "SAD": sad(pred, inputs.gt),
                "SAD_BG": sad_bg(pred, inputs.gt),
                "holes": 100 * interior_holes(pred, inputs.gt),
                "categories": list(case.categories),
            }
    print(f"{args.label}, {guidance} guidance, {len(cases[: args.limit])} targets (SAD /1000)")
    print("| variant | SAD | " + " | ".join(CATEGORIES) + " | SAD_BG | holes % |")
    print("|---" * (len(CATEGORIES) + 4) + "|")
    for name, per_case in rows.items():
        cells = [np.mean([r["SAD"] for r in per_case.values()])]
        for cat in CATEGORIES:
            cells.append(np.mean([r["SAD"] for r in per_case.values() if cat in r["categories"]]))
        cells += [np.mean([r["SAD_BG"] for r in per_case.values()])]
        cells += [np.nanmean([r["holes"] for r in per_case.values()])]
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    print("\nPaired differences against the network, 95% bootstrap intervals (negative = better):")
    for name, per_case in rows.items():
        if name == "net":
            continue
        cells = []
        for key in ("SAD", "SAD_BG"):
            d, lo, hi = paired_bootstrap(
                {k: r[key] for k, r in per_case.items()},
                {k: r[key] for k, r in rows["net"].items()},
            )
            cells.append(f"{key} {d:+.2f} [{lo:+.2f}, {hi:+.2f}]")
        print(f"- {name} − net: " + ", ".join(cells))
    if args.out:
        args.out.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
