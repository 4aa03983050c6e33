"""The wild set's results file: run `wildmatte bench eval` with both guidances and keep every
target's scores, with what produced them, as one committed JSON (docs/results/wild-test.json).

The file records the set (split, seed, size, the manifest's sha256), each engine's weights and
their sha256, the command, the machine and the date. `python benchmarks/tables.py` turns it into
the tables of README.md, the model card and docs/RESULTS.md. Predictions are cached under
outputs/bench/ (resumable; recomputed when a weights file changes).

Usage: python benchmarks/wild_results.py [--data data-cache/wild-test] [--split test]
       [--engines LABEL=prn:WEIGHTS closed-form=classic guidance ...] [--out FILE]
The set is built first (`wildmatte bench build-wild`) when --data holds none.

docs/results/wild-test.json was made with the bundled round 9 and round 8's weights from git:
    mkdir -p outputs/weights
    git show d4465bb:wildmatte/weights/default.safetensors > outputs/weights/prn-light.r8.safetensors
    git show d4465bb:wildmatte/weights/default.json > outputs/weights/prn-light.r8.json
    python benchmarks/wild_results.py --engines \
        prn-light.r9=prn:wildmatte/weights/default.safetensors \
        prn-light.r8=prn:outputs/weights/prn-light.r8.safetensors closed-form=classic guidance
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from wildmatte.evaluation.report import machine
from wildmatte.evaluation.run import parse_engine
from wildmatte.files import write_json
from wildmatte.interfaces.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
ENGINES = [
    "prn-light.r9=prn:wildmatte/weights/default.safetensors",
    "closed-form=classic",
    "guidance",
]
GUIDANCES = ("paper", "noisy")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights_entry(weights: str | None) -> dict:
    """Where the weights are, their sha256 and their release tag (None for the classic peers)."""
    if weights is None:
        return {"weights": None, "weights_sha256": None, "tag": None}
    path = Path(weights)
    meta = {}
    try:
        meta = json.loads(path.with_suffix(".json").read_text()).get("meta", {})
    except (OSError, ValueError):
        pass
    shown = Path(os.path.abspath(path))  # as given (a link stays a link), relative to the repo
    shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
    return {"weights": str(shown), "weights_sha256": sha256(path), "tag": meta.get("tag")}


def rounded(scores: dict) -> dict:
    """Per-case scores at 6 decimals: the tables show 2, and the file stays readable in a diff."""
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in scores.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT / "data-cache" / "wild-test")
    p.add_argument("--split", default="test", choices=["tune", "test"])
    p.add_argument("--engines", nargs="+", default=ENGINES)
    p.add_argument("--device", default="cpu")
    p.add_argument("--work", type=Path, default=ROOT / "outputs" / "bench")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "wild-test.json")
    args = p.parse_args(argv)
    manifest = args.data / "manifest.json"
    if not manifest.is_file():
        cli(["bench", "build-wild", "--split", args.split, "--out", str(args.data)])
    built = json.loads(manifest.read_text())
    runs = {}
    for guidance in GUIDANCES:
        out = args.work / f"wild-{args.split}-{guidance}"
        argv_eval = ["bench", "eval", "--data", str(args.data), "--guidance", guidance]
        argv_eval += ["--engines", *args.engines, "--out", str(out), "--device", args.device]
        if cli([*argv_eval, "--no-progress"]) != 0:
            print(f"wild_results.py: bench eval ({guidance}) failed", file=sys.stderr)
            return 1
        results = json.loads((out / "results.json").read_text())
        runs[guidance] = {
            row["label"]: {
                "engine": row["engine"],
                **weights_entry(row["weights"]),
                "per_case": {k: rounded(v) for k, v in sorted(row["per_case"].items())},
            }
            for row in results["engines"]
        }
    labels = [parse_engine(e).label for e in args.engines]
    doc = {
        "format": "wildmatte-results/1",
        "set": {
            "name": f"wild-{args.split}",
            "builder": built.get("builder"),
            "split": built.get("split"),
            "seed": built.get("seed"),
            "images": built.get("n"),
            "canvas": built.get("canvas"),
            "manifest_sha256": sha256(manifest),
            "built_by": f"wildmatte bench build-wild --split {args.split}",
        },
        "command": " ".join(["python benchmarks/wild_results.py", *sys.argv[1:]]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "engines": labels,
        "runs": runs,
    }
    write_json(args.out, doc)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
