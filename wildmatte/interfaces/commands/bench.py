"""`wildmatte bench`: build-cwild (make a Composition-Wild set), build-wild (the independent
wild set, tune or test split), eval (score engines on a benchmark folder), speed (latency,
throughput and peak memory per engine and size)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wildmatte.errors import InputError

_FG_HELP = (
    "foregrounds: a folder of RGBA cutouts, a list file, or a JSON spec such as "
    '\'{"type": "dim", "root": "/data/Composition-1k"}\''
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: build-cwild, build-wild, eval, speed")
    bench = p.add_subparsers(dest="bench_command", required=True)
    _register_build(bench)
    _register_build_wild(bench)
    _register_eval(bench)
    _register_speed(bench)


def _register_build(bench) -> None:
    p = bench.add_parser(
        "build-cwild",
        help="build a Composition-Wild set (overlapping foregrounds, front and occluded targets)",
    )
    p.add_argument("--fg", required=True, help=_FG_HELP)
    p.add_argument("--bg", required=True, help="folder of background images")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--n", type=int, default=30, help="number of images (default 30)")
    p.add_argument("--size", type=int, default=512, help="square side in px (default 512)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split",
        choices=("val", "train", "all"),
        default="val",
        help="which split of --fg and --bg to draw from (default val: held out)",
    )
    p.add_argument("--val-fraction", type=float, default=0.12)
    p.add_argument("--kernel", type=int, default=25, help="guidance dilation (default 25)")
    p.set_defaults(func=run_build)


def _register_build_wild(bench) -> None:
    p = bench.add_parser(
        "build-wild",
        help="build the independent wild set (held-out categories, 800×600, fine strands, "
        "partial opacity, rings) from code that shares nothing with the training data",
    )
    p.add_argument("--split", choices=("tune", "test"), required=True)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--fg", default="{data}/fg-train", help="folder of RGBA cutouts (default {data}/fg-train)"
    )
    p.add_argument(
        "--bg", default="{data}/bg-train", help="folder of backgrounds (default {data}/bg-train)"
    )
    p.add_argument("--n", type=int, help="number of images (default: tune 30, test 60)")
    p.add_argument("--seed", type=int, help="default: a fixed seed per split")
    p.set_defaults(func=run_build_wild)


def _register_eval(bench) -> None:
    p = bench.add_parser("eval", help="run engines on a benchmark folder and score them")
    p.add_argument("--data", type=Path, required=True, help="benchmark folder")
    p.add_argument(
        "--engines",
        nargs="+",
        default=["prn", "classic", "guidance"],
        help="[label=]prn[:WEIGHTS_OR_CONFIG], classic, classic-knn, classic-lkm, guidance "
        "(default: prn with the bundled weights, classic, guidance)",
    )
    p.add_argument("--layout", choices=("cwild", "aim", "pairs"), help="default: detected")
    p.add_argument("--guidance", choices=("paper", "noisy"), default="paper")
    p.add_argument(
        "--kernel", type=int, default=25, help="dilation of guidance made from GT (default 25)"
    )
    p.add_argument("--out", type=Path, help="default: outputs/bench/<data>-<guidance>")
    p.add_argument("--limit", type=int, help="only the first N cases")
    p.add_argument("--device", help="for prn: cpu, cuda, ... (default: cuda if available)")
    p.add_argument("--fresh", action="store_true", help="recompute predictions already on disk")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_eval)


def _register_speed(bench) -> None:
    from wildmatte.evaluation.speed import DEFAULT_ENGINES

    p = bench.add_parser("speed", help="latency, throughput and peak memory per engine and size")
    p.add_argument(
        "--engines",
        nargs="+",
        default=list(DEFAULT_ENGINES),
        help="default (what predict runs), prn, prn-light, prn-tiny, onnx, classic, guidance "
        "or [label=]prn:WEIGHTS",
    )
    p.add_argument("--sizes", nargs="+", type=int, default=[512, 1024, 2048])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--budget", type=float, default=60.0, help="seconds of timed calls per row")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before a row is skipped")
    p.add_argument(
        "--classic-max-mp",
        type=float,
        default=4.5,
        help="skip closed-form above this many megapixels (default 4.5)",
    )
    p.add_argument("--json", type=Path, help="also save the rows as JSON")
    p.set_defaults(func=run_speed)


def foreground_spec(text: str, val_fraction: float = 0.12) -> dict:
    """--fg as a spec: a JSON object, a list file, or a folder of RGBA cutouts."""
    if text.lstrip().startswith("{"):
        try:
            spec = json.loads(text)
        except ValueError as err:
            raise InputError("--fg", f"not valid JSON ({err})") from None
    elif Path(text).is_file():
        spec = {"type": "list", "path": text}
    else:
        spec = {"type": "rgba", "root": text}
    spec.setdefault("val_fraction", val_fraction)
    return spec


def run_build(args) -> int:
    from wildmatte.data.backgrounds import open_backgrounds
    from wildmatte.data.foregrounds import open_foregrounds
    from wildmatte.evaluation.cwild import build_cwild

    fg_spec = foreground_spec(args.fg, args.val_fraction)
    bg_spec = {"root": args.bg, "val_fraction": args.val_fraction}
    fgset, bgset = open_foregrounds(fg_spec, args.split), open_backgrounds(bg_spec, args.split)
    sources = {
        "split": args.split,
        "fg": {**fg_spec, "names": list(fgset.names)},
        "bg": {**bg_spec, "names": list(bgset.names)},
    }
    report = build_cwild(
        fgset,
        bgset,
        args.out,
        args.n,
        args.size,
        args.seed,
        args.kernel,
        sources=sources,
        progress=True,
    )
    print(f"wrote {report.samples} images ({2 * report.samples} targets) to {report.manifest}")
    for failure in report.failures:
        print(f"wildmatte: skipped {failure}", file=sys.stderr)
    return 1 if report.failures else 0


def run_build_wild(args) -> int:
    from wildmatte.data.paths import expand
    from wildmatte.evaluation.wildset import build_wildset

    report = build_wildset(
        expand(args.fg), expand(args.bg), args.out, args.split, args.n, args.seed, progress=True
    )
    counts = ", ".join(f"{c} {k}" for c, k in report.categories.items())
    print(
        f"wrote {report.samples} images ({2 * report.samples} targets: {counts}) "
        f"to {report.manifest} in {report.seconds:.1f} s"
    )
    for failure in report.failures:
        print(f"wildmatte: skipped {failure}", file=sys.stderr)
    return 1 if report.failures else 0


def run_eval(args) -> int:
    from wildmatte.evaluation.benchmark import run_benchmark
    from wildmatte.evaluation.report import category_table, metrics_table, role_table
    from wildmatte.evaluation.run import parse_engine

    specs = [parse_engine(text) for text in args.engines]
    out = args.out or Path("outputs/bench") / f"{args.data.resolve().name}-{args.guidance}"
    results = run_benchmark(
        args.data,
        specs,
        out,
        args.layout,
        args.guidance,
        args.device,
        resume=not args.fresh,
        limit=args.limit,
        progress=not args.no_progress,
        kernel=args.kernel,
    )
    print(metrics_table(results["engines"]))
    roles = role_table(results["engines"])
    if roles:
        print("\n" + roles)
    categories = category_table(results["engines"])
    if categories:
        print("\n" + categories)
    print(f"\nresults: {out / 'results.md'}, {out / 'results.json'}")
    for failure in results["failures"]:
        print(f"wildmatte: failed: {failure}", file=sys.stderr)
    if results["failures"]:
        print(f"wildmatte: {len(results['failures'])} failure(s)", file=sys.stderr)
    return 1 if results["failures"] else 0


def run_speed(args) -> int:
    from wildmatte.evaluation.report import machine, machine_line, speed_table
    from wildmatte.evaluation.speed import speed_rows
    from wildmatte.files import write_json

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    rows = speed_rows(
        args.engines,
        args.sizes,
        args.device,
        args.repeats,
        args.budget,
        args.timeout,
        args.classic_max_mp,
        progress,
    )
    info = machine()
    print(f"Machine: {machine_line(info)}\n")
    print(speed_table(rows))
    if args.json:
        write_json(args.json, {"machine": info, "rows": rows})
    failed = [r for r in rows if str(r.get("skipped", "")).startswith("failed")]
    return 1 if failed else 0
