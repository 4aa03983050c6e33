"""Headline tables of the independent wild set from `wildmatte bench eval` runs (one per guidance).

Per engine and guidance: SAD overall and per category, SAD_FG of opaque targets, SAD_BG, SAD_OCC
and the interior-hole share; then paired-bootstrap differences (95% intervals) of chosen pairs
and each engine's lead over closed-form. Markdown on stdout.
Usage: python experiments/report_wild.py paper=OUT_DIR noisy=OUT_DIR [--pairs A:B ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from wildmatte.evaluation.stats import paired_bootstrap

CATEGORIES = ("opaque", "fine", "partial", "occluded", "interior")


def load(folder: Path) -> dict[str, dict]:
    results = json.loads((folder / "results.json").read_text())
    return {e["label"]: e["per_case"] for e in results["engines"]}


def metric(per_case: dict, name: str, category: str | None = None) -> dict[str, float]:
    return {
        k: s[name]
        for k, s in per_case.items()
        if name in s and np.isfinite(s[name]) and (category is None or category in s["categories"])
    }


def mean(values: dict[str, float]) -> float:
    return float(np.mean(list(values.values()))) if values else float("nan")


def table(engines: dict[str, dict]) -> list[str]:
    head = [
        "engine",
        "SAD",
        *(f"SAD {c}" for c in CATEGORIES),
        "SAD_FG opaque",
        "SAD_BG",
        "SAD_OCC",
        "Holes %",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, cases in engines.items():
        cells = [mean(metric(cases, "SAD"))]
        cells += [mean(metric(cases, "SAD", c)) for c in CATEGORIES]
        cells += [mean(metric(cases, "SAD_FG", "opaque")), mean(metric(cases, "SAD_BG"))]
        cells += [mean(metric(cases, "SAD_OCC")), 100 * mean(metric(cases, "Holes"))]
        lines.append("| " + " | ".join([label, *(f"{c:.2f}" for c in cells)]) + " |")
    return lines


def lead(engines: dict[str, dict], peer: str) -> list[str]:
    """Relative SAD lead over the peer: (peer − engine) / peer, overall and per category."""
    lines = ["| engine | all | " + " | ".join(CATEGORIES) + " | SAD_FG opaque |", "|" + "---|" * 8]
    for label, cases in engines.items():
        if label == peer:
            continue
        cells = []
        for name, cat in [("SAD", None), *(("SAD", c) for c in CATEGORIES), ("SAD_FG", "opaque")]:
            p, e = mean(metric(engines[peer], name, cat)), mean(metric(cases, name, cat))
            cells.append(f"{100 * (p - e) / p:+.0f}%")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def pairs(engines: dict[str, dict], wanted: list[str]) -> list[str]:
    lines = ["| a − b | SAD | SAD_FG | SAD_BG | Holes % |", "|---|---|---|---|---|"]
    for pair in wanted:
        a, b = pair.split(":")
        if a not in engines or b not in engines:
            continue
        cells = []
        for name, scale in (("SAD", 1), ("SAD_FG", 1), ("SAD_BG", 1), ("Holes", 100)):
            d, lo, hi = paired_bootstrap(metric(engines[a], name), metric(engines[b], name))
            cells.append(f"{scale * d:+.2f} [{scale * lo:+.2f}, {scale * hi:+.2f}]")
        lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="GUIDANCE=bench eval output folder")
    parser.add_argument("--pairs", nargs="*", default=[], help="A:B engine labels to compare")
    parser.add_argument("--peer", default="closed-form")
    args = parser.parse_args()
    for item in args.runs:
        kind, folder = item.split("=", 1)
        engines = load(Path(folder))
        n = len(next(iter(engines.values())))
        print(f"\n#### {kind} guidance ({n} targets; SAD and SAD_* /1000)\n")
        print("\n".join(table(engines)))
        if args.peer in engines:
            print(f"\nLead over {args.peer} (SAD; positive = better):\n")
            print("\n".join(lead(engines, args.peer)))
        if args.pairs:
            print("\nPaired differences, 95% bootstrap intervals (negative = a better):\n")
            print("\n".join(pairs(engines, args.pairs)))


if __name__ == "__main__":
    main()
