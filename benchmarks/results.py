"""Regenerate docs/RESULTS.md (headline table, the paper's tables at our scale, speed) and
experiments/HISTORY.md (every round of the shipped default and its experiments), on held-out
data.

Builds (once, cached in data-cache/) a Composition-Wild set from the *validation* split of the
starter foregrounds and backgrounds, evaluates the guidance mask, the classic engine and every
PRN weight file found or given, under the paper's guidance and the noisy one, measures speed,
and writes both pages, with the grid PNGs beside RESULTS.md. Predictions are cached in
outputs/results/ (resumable; recomputed when a weights file changes).

Weights: runs/<config>/model.safetensors (else runs/open-<config>/, the CPU-scale version) for
each config named in the tables (read only), every wildmatte/weights/*.safetensors, and any
`--weights LABEL=PATH` (a LABEL that is a config name fills that row).

Usage: python benchmarks/results.py [--n 30] [--size 512] [--weights LABEL=PATH ...]
       [--speed-sizes 512 1024 2048] [--no-speed] [--device cpu]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from wildmatte.data.backgrounds import open_backgrounds
from wildmatte.data.foregrounds import open_foregrounds
from wildmatte.evaluation.benchmark import run_benchmark
from wildmatte.evaluation.cwild import build_cwild
from wildmatte.evaluation.report import (
    machine,
    machine_line,
    metrics_table,
    role_table,
    speed_table,
)
from wildmatte.evaluation.run import EngineSpec
from wildmatte.evaluation.speed import DEFAULT_ENGINES, speed_rows
from wildmatte.evaluation.stats import paired_bootstrap
from wildmatte.files import write_bytes, write_json, write_text

ROOT = Path(__file__).resolve().parents[1]
FG = {"type": "rgba", "root": "{data}/fg-train", "val_fraction": 0.12}
BG = {"root": "{data}/bg-train", "val_fraction": 0.12}
# (row title, config name): the rows of the paper's Table 1 and Table 2, and our shipped models.
TABLE1 = [
    ("Stage 1: MGMatting (merge + CutMask)", "mgmatting"),
    ("Stage 1: MGMatting* (merge)", "mgmatting-star"),
    ("Stage 1: instance-wise (ours)", "instance-wise"),
    ("Stage 2: control (stage 1 continued, same steps, no weak images)", "stage2-control"),
    ("Stage 2: segmentation training", "segmentation-training"),
    ("Stage 2: self-training (ours)", "selftrain"),
]
TABLE2 = [
    ("no guidance perturbation", "no-guide-pert"),
    ("no image perturbation", "no-image-pert"),
    ("region-level image perturbation", "region-pert"),
    ("pixel + region-level", "pixel+region-pert"),
    ("pixel-level (full self-training)", "selftrain"),
]
# The default model's rounds, and experiments that start from it.
DEFAULT_RUNS = [
    ("Stage 1, round 1 (prn-light, open-default)", "open-default"),
    ("Stage 1, round 2 (prn-light, open-default-v2)", "open-default-v2"),
    ("Stage 1, round 3 (prn-light, open-default-v3)", "open-default-v3"),
    ("Stage 1, round 4, GPU (prn-light, open-default-v4)", "open-default-v4"),
    ("Stage 1, round 5, GPU (prn-light, open-default-v5)", "open-default-v5"),
    ("Round 5 + 700 CPU steps at 384² (control, open-bgloss-control)", "open-bgloss-control"),
    ("Round 5 + 700 CPU steps + background loss (open-bgloss)", "open-bgloss"),
    ("Round 5 + 95 CPU min at 512² + background loss (open-bgloss512)", "open-bgloss512"),
    (
        "The same with BatchNorm frozen: round 6, CPU (open-bgloss512-frozen-bn)",
        "open-bgloss512-frozen-bn",
    ),
    ("Round 6 + 40 more CPU min of its recipe (open-round6-more)", "open-round6-more"),
    *[
        (
            f"The same 412 steps, background loss ×{w} (open-bgloss{w}-frozen-bn)"
            + (": round 7, CPU" if w == 8 else ""),
            f"open-bgloss{w}-frozen-bn",
        )
        for w in (4, 8, 16, 32)
    ],
    ("Background loss ×32, 412 more steps (open-bgloss32-more)", "open-bgloss32-more"),
    *[
        (f"Background loss ×32 + missed-piece loss ×{w} (open-missed{w})", f"open-missed{w}")
        for w in (8, 32)
    ],
    ("Round 7 + the same 412 steps again (open-round7-more)", "open-round7-more"),
    *[
        (f"Round 7 + 6.5 GPU min, background loss ×{w} (open-default-v8{s})", f"open-default-v8{s}")
        for w, s in ((8, ""), (16, "-bg16"), (32, "-bg32"))
    ],
    ("×16 + 3 more GPU min: round 8, GPU (open-default-v8-bg16-more)", "open-default-v8-bg16-more"),
    (
        "Stage 2 from the shipped default (prn-light, open-default-selftrain)",
        "open-default-selftrain",
    ),
]
PEERS = [
    ("Guidance mask (input)", "guidance"),
    ("Closed-form matting (classic)", "classic"),
    ("KNN matting (classic-knn)", "classic-knn"),
    ("Large-kernel matting (classic-lkm)", "classic-lkm"),
]


def _claim(better, worse, text, metric="SAD", guidance="paper") -> tuple[str, str, str, str, str]:
    return better, worse, text, metric, guidance


def _claims(better, worse, text, metrics=("SAD",)) -> list[tuple[str, str, str, str, str]]:
    """One claim per metric and guidance; `text` may name {metric}, the guidance is appended."""
    return [
        _claim(better, worse, f"{text.format(metric=m)} ({g} guidance)", m, g)
        for m in metrics
        for g in ("paper", "noisy")
    ]


# The paper's claims (and ours about the shipped model), each checked on the two rows it names.
PAPER_CLAIMS = [
    _claim(
        "instance-wise",
        "mgmatting",
        "Instance-wise training beats MGMatting's instance merging on SAD_OCC (Table 1, stage 1)",
        "SAD_OCC",
    ),
    _claim(
        "instance-wise",
        "mgmatting-star",
        "Instance-wise training beats instance merging without CutMask (MGMatting*) on SAD_OCC",
        "SAD_OCC",
    ),
    _claim("selftrain", "instance-wise", "Self-training improves on stage 1 (Table 1)"),
    _claim(
        "selftrain",
        "stage2-control",
        "Self-training improves on stage 1 continued for the same steps (our control)",
    ),
    _claim(
        "selftrain",
        "stage2-control",
        "Self-training improves on the control with noisy guidance",
        guidance="noisy",
    ),
    _claim(
        "selftrain",
        "segmentation-training",
        "Self-training beats segmentation training (Table 1, stage 2)",
    ),
    *[
        _claim("selftrain", key, f"Full self-training beats the ablation '{title}' (Table 2)")
        for title, key in TABLE2
        if key != "selftrain"
    ],
    *[
        _claim(
            "bundled-default",
            peer,
            f"The shipped default beats {title} with {guidance} guidance",
            guidance=guidance,
        )
        for title, peer in (("KNN matting", "classic-knn"), ("large-kernel matting", "classic-lkm"))
        for guidance in ("paper", "noisy")
    ],
]
# What each round and experiment behind the shipped default showed (experiments/HISTORY.md).
ROUND_CLAIMS = [
    _claim("open-default-selftrain", "bundled-default", "Stage 2 improves on the shipped default"),
    _claim("open-default-v2", "open-default", "Round 2 of stage 1 improves on round 1"),
    *[
        claim
        for n in (3, 4, 5)
        for claim in _claims(
            f"open-default-v{n}", f"open-default-v{n - 1}", f"Round {n} improves on round {n - 1}"
        )
    ],
    *_claims(
        "open-bgloss",
        "open-bgloss-control",
        "The background loss cuts {metric} against its control",
        metrics=("SAD_BG", "SAD"),
    ),
    *[
        claim
        for run in ("open-bgloss512", "open-bgloss512-frozen-bn")
        for claim in _claims(
            run, "open-default-v5", f"{run} improves on round 5 on {{metric}}", ("SAD", "SAD_BG")
        )
    ],
    *_claims(
        "open-bgloss512-frozen-bn", "open-bgloss512", "Frozen BatchNorm helps a batch-4 fine-tune"
    ),
    *_claims(
        "open-round6-more",
        "open-bgloss512-frozen-bn",
        "40 more CPU minutes improve on round 6 on {metric}",
        ("SAD", "SAD_BG"),
    ),
    *_claims(
        "open-bgloss8-frozen-bn",
        "open-bgloss512-frozen-bn",
        "Round 7 (background loss ×8) improves on round 6 on {metric}",
        ("SAD", "SAD_BG"),
    ),
    *[
        claim
        for w in (16, 32)
        for claim in _claims(
            f"open-bgloss{w}-frozen-bn",
            "open-bgloss512-frozen-bn",
            f"Background loss ×{w} improves on round 6",
        )
    ],
    *[
        claim
        for w in (4, 8, 16, 32)
        for claim in _claims(
            f"open-bgloss{w}-frozen-bn",
            "open-round6-more",
            f"Background loss ×{w} instead of ×2 cuts {{metric}}",
            ("SAD_BG", "SAD"),
        )
    ],
    *_claims("open-bgloss32-more", "open-bgloss32-frozen-bn", "412 more steps help weight 32"),
    *_claims(
        "open-bgloss32-more",
        "open-bgloss8-frozen-bn",
        "Weight 32 with 412 more steps beats round 7",
    ),
    *[
        claim
        for w in (8, 32)
        for claim in _claims(
            f"open-missed{w}",
            "open-bgloss32-frozen-bn",
            f"The missed-piece loss ×{w} improves weight 32 on {{metric}}",
            ("SAD", "SAD_FG"),
        )
    ],
    *[
        claim
        for w in (8, 32)
        for claim in _claims(
            f"open-missed{w}", "open-bgloss8-frozen-bn", f"Weight 32 + missed ×{w} beats round 7"
        )
    ],
    *_claims(
        "open-round7-more",
        "open-bgloss8-frozen-bn",
        "412 more steps of its recipe improve on round 7 on {metric}",
        ("SAD", "SAD_BG"),
    ),
    *[
        claim
        for run in (
            "open-default-v8",
            "open-default-v8-bg16",
            "open-default-v8-bg32",
            "open-default-v8-bg16-more",
        )
        for claim in _claims(
            run,
            "open-bgloss8-frozen-bn",
            f"{run} improves on round 7 on {{metric}}",
            ("SAD", "SAD_BG"),
        )
    ],
    *_claims(
        "open-default-v8-bg16-more",
        "open-default-v8-bg16",
        "Three more GPU minutes improve weight 16 on {metric}",
        ("SAD", "SAD_FG"),
    ),
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=30, help="Composition-Wild images (2 targets each)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", nargs="*", default=[], metavar="LABEL=PATH")
    p.add_argument("--runs", type=Path, default=ROOT / "runs", help="where trained runs are")
    p.add_argument("--no-runs", action="store_true", help="ignore --runs (e.g. mid-training)")
    p.add_argument("--device", help="for PRN evaluation (default: cuda if available)")
    p.add_argument("--speed-sizes", nargs="+", type=int, default=[512, 1024, 2048])
    p.add_argument("--speed-repeats", type=int, default=3)
    p.add_argument("--speed-budget", type=float, default=60.0)
    p.add_argument("--no-speed", action="store_true", help="reuse the last speed figures")
    p.add_argument("--cache", type=Path, default=ROOT / "data-cache")
    p.add_argument("--out", type=Path, default=ROOT / "outputs" / "results")
    p.add_argument("--doc", type=Path, default=ROOT / "docs" / "RESULTS.md")
    p.add_argument("--history", type=Path, default=ROOT / "experiments" / "HISTORY.md")
    return p.parse_args(argv)


def find_weights(runs: Path | None, extra: list[str]) -> dict[str, Path]:
    """{label: .safetensors} from runs/<config>/, the bundled folder, and --weights."""
    found = {}
    for _, config in TABLE1 + TABLE2 + DEFAULT_RUNS if runs else []:
        # The paper-scale run, else its CPU-scale counterpart (configs open-<name>).
        paths = [runs / run / "model.safetensors" for run in (config, f"open-{config}")]
        path = next((p for p in paths if p.is_file()), None)
        if path:
            found[config] = path
    for path in sorted((ROOT / "wildmatte" / "weights").glob("*.safetensors")):
        found[f"bundled-{path.stem}"] = path
    for item in extra:
        label, sep, path = item.partition("=")
        if not sep:
            sys.exit(f"results.py: --weights wants LABEL=PATH, got {item!r}")
        found[label] = Path(path)
    return found


def ensure_cwild(args) -> Path:
    folder = args.cache / f"cwild-val-{args.size}px-n{args.n}-seed{args.seed}"
    if (folder / "manifest.json").is_file():
        return folder
    fgset, bgset = open_foregrounds(FG, "val"), open_backgrounds(BG, "val")
    sources = {
        "split": "val",
        "fg": {**FG, "names": fgset.names},
        "bg": {**BG, "names": bgset.names},
    }
    report = build_cwild(
        fgset, bgset, folder, args.n, args.size, args.seed, sources=sources, progress=True
    )
    if report.failures:
        print("\n".join(report.failures), file=sys.stderr)
    return folder


def weights_meta(path: Path) -> str:
    """'config, N steps' from the weights' .json, for the models table."""
    try:
        doc = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return "no metadata"
    meta, arch = doc.get("meta", {}), doc.get("config", {}).get("name", "?")
    steps = meta.get("step")
    return f"{arch}, config {meta.get('config', '?')}, {steps if steps is not None else '?'} steps"


def run_speed(args) -> dict:
    cache = args.out / "speed.json"
    if args.no_speed and cache.is_file():
        return json.loads(cache.read_text())
    rows = speed_rows(
        list(DEFAULT_ENGINES),
        args.speed_sizes,
        "cpu",
        args.speed_repeats,
        args.speed_budget,
        progress=lambda s: print(s, file=sys.stderr),
    )
    import torch

    if torch.cuda.is_available():
        rows += speed_rows(
            ["prn", "prn-light"],
            args.speed_sizes,
            "cuda",
            args.speed_repeats,
            args.speed_budget,
            progress=lambda s: print(s, file=sys.stderr),
        )
    doc = {"machine": machine(), "rows": rows, "measured": _now()}
    write_json(cache, doc)
    return doc


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _rows(table: list[tuple[str, str]], engines: dict[str, dict]) -> list[dict]:
    """Table rows in the given order; a model we have no weights for is a row of dashes."""
    return [
        {**engines[key], "label": title}
        if key in engines
        else {"label": f"{title} — no weights evaluated", "mean": {}, "n": 0}
        for title, key in table
    ]


def pasted_section(name: str) -> str:
    """A section kept as its own file under docs/ (the wild set's tables, the deployment
    measurements of 2026-12-02), with its marked tables rendered by benchmarks/tables.py from
    their committed results files; this script does not rerun them."""
    spec = importlib.util.spec_from_file_location("tables", ROOT / "benchmarks" / "tables.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = (ROOT / "docs" / name).read_text().rstrip()
    return tables.regenerate(text, ROOT / "docs" / "RESULTS.md")


HEADLINE = [*PEERS, ("Shipped default", "bundled-default")]


def headline_table(paper: dict[str, dict], noisy: dict[str, dict]) -> str:
    """The engines a user chooses between × the benchmark under each guidance."""
    metrics = ("SAD", "SAD_BG", "SAD_OCC")
    cols = [f"{m} {g}" for g in ("paper", "noisy") for m in metrics]
    lines = ["| engine | " + " | ".join(cols) + " | median s / image |", "| --- " * 8 + "|"]
    for title, key in HEADLINE:
        a, b = paper.get(key, {}).get("mean"), noisy.get(key, {}).get("mean")
        if not a or not b:
            continue
        cells = [f"{t.get(m, float('nan')):.2f}" for t in (a, b) for m in metrics]
        seconds = paper[key].get("seconds_per_image")
        time = f"{seconds:.2f}" if seconds is not None else "—"
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {time} |")
    return "\n".join(lines)


def robustness_table(paper: dict[str, dict], noisy: dict[str, dict]) -> str:
    lines = [
        "| engine | SAD paper guidance | SAD noisy guidance | × | SAD_OCC paper | SAD_OCC noisy |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, row in paper.items():
        a, b = row["mean"], noisy.get(key, {}).get("mean", {})
        if not a or not b:
            continue
        ratio = b["SAD"] / a["SAD"] if a["SAD"] else float("nan")
        lines.append(
            f"| {key} | {a['SAD']:.2f} | {b['SAD']:.2f} | {ratio:.2f} | "
            f"{a.get('SAD_OCC', 0):.2f} | {b.get('SAD_OCC', 0):.2f} |"
        )
    return "\n".join(lines)


def findings(
    paper: dict[str, dict], noisy: dict[str, dict], claims: list[tuple] = PAPER_CLAIMS
) -> list[str]:
    """The claims we can check with the rows we have, each with its evidence; the paper's
    page opens with the best PRN row against the mask and closed-form matting."""

    def sad(table, key, metric="SAD"):
        return table.get(key, {}).get("mean", {}).get(metric)

    out = best_model_findings(paper) if claims is PAPER_CLAIMS else []
    tables = {"paper": paper, "noisy": noisy}
    for better, worse, claim, metric, guidance in claims:
        table = tables[guidance]
        if sad(table, better, metric) is None or sad(table, worse, metric) is None:
            out.append(f"{claim}: not tested (weights for `{better}` and `{worse}` not found).")
        else:
            out.append(f"{claim}: {compare(table[better], table[worse], metric)}.")
    return out


def best_model_findings(paper: dict[str, dict]) -> list[str]:
    prn = {k: v for k, v in paper.items() if v["engine"] == "prn" and v["mean"]}
    if not prn:
        return [
            "No PRN weights were found, so none of the paper's model findings is tested "
            "here; the table holds the peers only."
        ]
    best = min(prn, key=lambda k: prn[k]["mean"]["SAD"])
    return [
        f"A learned matting model (the best PRN row, `{best}`) improves on its guidance "
        f"mask: {compare(paper[best], paper['guidance'], 'SAD')}.",
        "It beats closed-form matting on the same mask: "
        f"{compare(paper[best], paper['classic'], 'SAD')}.",
    ]


def compare(a: dict, b: dict, metric: str) -> str:
    """'**yes** (…)' when row a's metric is lower than b's, with a paired 95% interval when both
    rows have per-case scores: a difference inside it is called noise, not a finding."""
    ma, mb = a["mean"][metric], b["mean"][metric]
    figures = f"{metric} {ma:.2f} vs {mb:.2f}"
    per_a, per_b = a.get("per_case"), b.get("per_case")
    if not per_a or not per_b:
        return f"**{'yes' if ma < mb else 'no'}** ({figures})"
    diff, lo, hi = paired_bootstrap(
        {k: v[metric] for k, v in per_a.items()}, {k: v[metric] for k, v in per_b.items()}
    )
    word = "yes" if hi < 0 else "no" if lo > 0 else "no difference beyond noise"
    return (
        f"**{word}** ({figures}; paired difference {diff:+.2f}, 95% interval "
        f"[{lo:+.2f}, {hi:+.2f}] over {len(set(per_a) & set(per_b))} targets)"
    )


def _engine_rows(results: dict) -> dict[str, dict]:
    return {e["label"]: e for e in results["engines"]}


def scale_text(args, cw: Path, weights: dict[str, Path], n_targets: int) -> str:
    manifest = json.loads((cw / "manifest.json").read_text())
    fgs, bgs = manifest["sources"]["fg"]["names"], manifest["sources"]["bg"]["names"]
    models = "\n".join(f"  - `{k}`: {weights_meta(p)}" for k, p in weights.items())
    return f"""## How our scale differs from the paper's

- **Data.** Our Composition-Wild set has {args.n} images ({n_targets} targets) built from the
  {len(fgs)} held-out validation foregrounds of the open starter set (photographed objects and
  some clip art with hand-cut alpha; no hair, fur or glass) over crops of its {len(bgs)}
  held-out backgrounds. The paper builds its benchmarks from professionally matted foregrounds
  (hair, fur, transparency) and trains stage 2 on real COCO images; none of that is here.
- **Resolution.** Our images are {args.size}² ({args.size**2 / 1e6:.2f} MP); the paper's are
  full-resolution photographs of one to several megapixels. SAD, Grad and Conn are sums over
  pixels, so our absolute numbers are not comparable with the paper's: only the ranking of the
  rows within a table is. The guidance is dilated 25×25 as in the paper, which at {args.size}²
  is a relatively wider band than at the paper's resolution.
- **Training.** The paper trains the full PRN for 100k steps at batch 40 on 512² crops on GPUs
  (our `paper` config records that recipe). The weights evaluated here:
{models or "  - none"}
  A stage-1 row trained with a CPU-scale config (`open-<name>`) is the light PRN from scratch
  with the same small budget as its neighbours: it compares sampling schemes early in
  training, not converged models. The CPU-scale stage-2 rows (Table 1's lower rows and all of
  Table 2) continue from the instance-wise row's weights with one shared budget, and the
  control row spends that budget on composited images alone, so that a stage-2 row is
  compared with "more steps", not only with its starting point. `experiments/train_cpu_tables.sh`
  trains every CPU-scale row (about 2 h 30 on 2 cores) and regenerates this page.
- **Weak labels.** The paper's stage 2 self-trains on real COCO images. Ours uses 400 images
  made by `wildmatte data build-weak` from the training split: cutouts pasted by Poisson
  cloning and other blends whose alpha is unknown, annotated with polygons only.
- **Objects.** Starter foregrounds are small (a few hundred px), so at larger sizes they are
  upscaled and their edges are softer than a real photograph's.
"""


def _generated(paper: dict, args) -> list[str]:
    command = " ".join(["python benchmarks/results.py", *sys.argv[1:]])
    return [
        f"Generated on {_now()} by `{command}` (`make results` runs this script with its "
        "defaults). The Composition-Wild tables and the speed table were measured by this "
        "script (the speed table gives its own time). Two sections were not: the wild set's "
        "tables come from the committed results file docs/results/wild-test.json "
        "(`python benchmarks/tables.py`), and the deployment section is pasted from "
        "docs/results-deploy.md with its own date and source. Rows marked *no weights "
        "evaluated* had no weights file (train them with "
        "`wildmatte train --config experiments/configs/NAME.yaml`, then re-run) or were left "
        "out with --no-runs.",
        "",
        f"Benchmark: Composition-Wild, {args.n} images of {args.size}² from the validation "
        f"split only (seed {args.seed}), {paper['cases']} targets (a front and an occluded "
        "object per image). Metrics over the whole image: SAD, Grad, Conn /1000, MSE ×10³; "
        "SAD_FG / SAD_BG split SAD by the target's alpha > 0; SAD_OCC is the error on the other "
        f"objects. Machine: {machine_line(paper['machine'])}.",
    ]


def build_doc(args, cw, weights, paper, noisy, speed) -> str:
    engines_p, engines_n = _engine_rows(paper), _engine_rows(noisy)
    bundled = [(k, k) for k in engines_p if k.startswith("bundled-")]
    extra_keys = {k for _, k in PEERS + TABLE1 + TABLE2 + DEFAULT_RUNS} | {k for k, _ in bundled}
    extra = [(k, k) for k in engines_p if k not in extra_keys]
    table1 = _rows(PEERS + TABLE1 + bundled + extra, engines_p)
    table2 = _rows(TABLE2, engines_p)
    rounds = {k for _, k in DEFAULT_RUNS}
    grid = paper.get("grid")
    parts = [
        "# Results",
        "",
        *_generated(paper, args),
        "",
        "## Headline: the engines on Composition-Wild",
        "",
        "SAD, SAD_BG and SAD_OCC (/1000, lower is better) with the paper's guidance (the mask "
        "dilated 25 px) and with noisy guidance (like a segmentation model's mask). Every round "
        "and experiment behind the shipped default: "
        "[experiments/HISTORY.md](../experiments/HISTORY.md).",
        "",
        headline_table(engines_p, engines_n),
        "",
        pasted_section("results-wild.md"),
        "",
        "## Table 1: paper's guidance (GT ≥ 0.5, dilated 25×25)",
        "",
        metrics_table(table1),
        "",
        "By target (front object / occluded object):",
        "",
        role_table([r for r in table1 if r["n"]]),
        "",
        "## Table 2: perturbation ablations (self-training variants), paper's guidance",
        "",
        metrics_table(table2),
        "",
        "## Robustness: the same engines with noisy guidance",
        "",
        "Noisy guidance imitates a segmentation model's mask (off threshold, wrong scale, "
        "wobbly edge, a missing piece, a stray blob; see wildmatte/evaluation/cwild.py). "
        "× is SAD noisy / SAD paper. The paper's guidance is dilated 25 px, so at our "
        "resolution it is a loose band around the object, while the noisy mask hugs the "
        "object but is wrong in places: the two test different errors, and the mask's own "
        "row shows which is the larger at this scale.",
        "",
        robustness_table({k: v for k, v in engines_p.items() if k not in rounds}, engines_n),
        "",
        "## What we reproduce",
        "",
        *[f"- {f}" for f in findings(engines_p, engines_n)],
        "",
        "## Qualitative grid",
        "",
        "Worst and best targets by SAD of the bundled default model (paper's guidance): image "
        "with the guidance (green), prediction, ground truth, error.",
        "",
        "![grid](results-grid.png)" if grid else "(no grid: nothing was scored)",
        "",
        "The same engine with noisy guidance:",
        "",
        "![grid, noisy guidance](results-grid-noisy.png)" if noisy.get("grid") else "(none)",
        "",
        "## Speed",
        "",
        f"Measured {speed.get('measured', '?')} on: {machine_line(speed['machine'])}. "
        "Batch 1, median of the timed calls after one warm-up; synthetic input with an "
        "elliptical mask. PRN variants with random weights (speed does not depend on them). "
        "Peak MiB: each row in a fresh process, peak resident set above the process after "
        "importing torch/pymatting (Linux VmHWM); on CUDA torch.cuda.max_memory_allocated. "
        "Closed-form matting is skipped above 4.5 MP, KNN and large-kernel matting above "
        "1.1 MP (their sparse solves grow faster than the pixel count). A load average "
        "above the core count means other work (such as a "
        "training run) shared the CPU: the latencies are then upper bounds.",
        "",
        speed_table(speed["rows"]),
        "",
        pasted_section("results-deploy.md"),
        "",
        scale_text(args, cw, {k: p for k, p in weights.items() if k not in rounds}, paper["cases"]),
    ]
    if paper["failures"] or noisy["failures"]:
        parts += ["## Failures", "", *[f"- {f}" for f in paper["failures"] + noisy["failures"]]]
    return "\n".join(parts).rstrip() + "\n"


def build_history(args, paper, noisy) -> str:
    """experiments/HISTORY.md: the default's rounds and experiments, with the shipped weights."""
    engines_p, engines_n = _engine_rows(paper), _engine_rows(noisy)
    table = _rows([*PEERS[1:2], *DEFAULT_RUNS, ("bundled-default", "bundled-default")], engines_p)
    keys = ["classic", *(k for _, k in DEFAULT_RUNS), "bundled-default"]
    parts = [
        "# History: the rounds and experiments behind the shipped default",
        "",
        "What each config in experiments/configs/ gave on the benchmark of "
        "[docs/RESULTS.md](../docs/RESULTS.md); the index with one line per experiment and "
        "which run started from which is [README.md](README.md).",
        "",
        *_generated(paper, args),
        "",
        "## The rounds, paper's guidance",
        "",
        metrics_table(table),
        "",
        "By target (front object / occluded object):",
        "",
        role_table([r for r in table if r["n"]]),
        "",
        "## The same with noisy guidance",
        "",
        robustness_table({k: engines_p[k] for k in keys if k in engines_p}, engines_n),
        "",
        "## What each round and experiment showed",
        "",
        *[f"- {f}" for f in findings(engines_p, engines_n, ROUND_CLAIMS)],
    ]
    return "\n".join(parts).rstrip() + "\n"


def shown_grid(results: dict) -> str | None:
    """The grid of the model users get (the bundled default), else the benchmark's choice."""
    rows = _engine_rows(results)
    return (rows.get("bundled-default") or {}).get("grid") or results.get("grid")


def main(argv=None) -> int:
    args = parse_args(argv)
    cw = ensure_cwild(args)
    weights = find_weights(None if args.no_runs else args.runs, args.weights)
    specs = [EngineSpec(key, key) for _, key in PEERS]
    specs += [EngineSpec(label, "prn", str(path)) for label, path in weights.items()]
    results = {
        mode: run_benchmark(cw, specs, args.out / mode, "cwild", mode, args.device)
        for mode in ("paper", "noisy")
    }
    speed = run_speed(args)
    doc_dir = args.doc.parent
    for mode, name in (("paper", "results-grid.png"), ("noisy", "results-grid-noisy.png")):
        grid = shown_grid(results[mode])
        if grid:
            write_bytes(doc_dir / name, (args.out / mode / grid).read_bytes())
    write_text(args.doc, build_doc(args, cw, weights, results["paper"], results["noisy"], speed))
    write_text(args.history, build_history(args, results["paper"], results["noisy"]))
    print(f"wrote {args.doc} and {args.history}")
    return 1 if results["paper"]["failures"] or results["noisy"]["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
