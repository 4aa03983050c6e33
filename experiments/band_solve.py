"""Does a closed-form solve inside the network's band close what the encoder alone does not?
(issue 24, part 4: fine strands and see-through objects, where closed-form still wins)

For every case of a tune set, a PRN engine's alpha is read from a `wildmatte bench eval` folder.
Its band of doubt (lo < α < hi, widened by `grow` px) becomes the unknown region of a trimap
whose sure parts come from the network; closed-form matting (pymatting) solves it, started from
nothing but the image. Variants: `net` (the network as it is), `cf-gG` (the solve replaces the
network inside the band), `mean-gG` (their average there). Scored per category.
Usage: python experiments/band_solve.py SET_DIR EVAL_DIR LABEL [--out JSON] [--limit N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from pymatting import estimate_alpha_cf

from wildmatte.data.imageio import read_alpha
from wildmatte.evaluation.layouts import load_cases, read_inputs
from wildmatte.evaluation.metrics import interior_holes, sad, sad_bg
from wildmatte.evaluation.stats import paired_bootstrap

LO, HI = 0.02, 0.98
GROWS = (0, 6)
CATEGORIES = ("opaque", "fine", "partial", "occluded", "interior")


def band(alpha: np.ndarray, grow: int) -> np.ndarray:
    unknown = ((alpha > LO) & (alpha < HI)).astype(np.uint8)
    if grow:
        unknown = cv2.dilate(
            unknown, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
        )
    return unknown.astype(bool)


def solve(image: np.ndarray, alpha: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Closed-form alpha on the trimap: the network's sure parts, its band unknown."""
    if not unknown.any():
        return alpha
    trimap = np.where(alpha >= 0.5, 1.0, 0.0)
    trimap[unknown] = 0.5
    ys, xs = np.nonzero(unknown)
    # Solve in the band's bounding box (plus a margin): the same answer, far fewer pixels.
    y0, y1 = max(ys.min() - 8, 0), min(ys.max() + 9, alpha.shape[0])
    x0, x1 = max(xs.min() - 8, 0), min(xs.max() + 9, alpha.shape[1])
    tri = trimap[y0:y1, x0:x1]
    if not (tri == 1).any() or not (tri == 0).any():  # all see-through: nothing to anchor on
        return alpha
    crop = estimate_alpha_cf(image[y0:y1, x0:x1].astype(np.float64), tri)
    out = alpha.copy()
    out[y0:y1, x0:x1] = np.where(unknown[y0:y1, x0:x1], np.clip(crop, 0, 1), alpha[y0:y1, x0:x1])
    return out


def variants(image: np.ndarray, alpha: np.ndarray) -> dict[str, np.ndarray]:
    out = {"net": alpha}
    for grow in GROWS:
        unknown = band(alpha, grow)
        cf = solve(image, alpha, unknown)
        out[f"cf-g{grow}"] = cf
        out[f"mean-g{grow}"] = np.where(unknown, (cf + alpha) / 2, alpha)
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
