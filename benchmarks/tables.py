"""Regenerate the results tables of README.md, the model card and docs/RESULTS.md from the
committed results files (docs/results/*.json), or check that they match (--check).

A table lives in a document between two markers:
    <!-- results-table NAME ... -->
    ...generated...
    <!-- /results-table -->
and only what is between them is rewritten. Bold marks the lowest value of a column among the
engines that estimate alpha (the guidance mask is the input, not a contender).
What each model saw of a set's categories comes from docs/results/models.json (by sha256).

Usage: python benchmarks/tables.py [--check]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from wildmatte.evaluation.stats import paired_bootstrap

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "wildmatte" / "weights" / "MODEL_CARD.md",
    ROOT / "docs" / "RESULTS.md",
    # The sections benchmarks/results.py pastes into RESULTS.md.
    ROOT / "docs" / "results-wild.md",
    ROOT / "docs" / "results-deploy.md",
]
BUNDLED = ROOT / "wildmatte" / "weights" / "default.json"
CATEGORIES = ("opaque", "fine", "partial", "occluded", "interior")
BLOCK = re.compile(
    r"(<!-- results-table (?P<name>[\w-]+)[^\n]*-->\n)(?P<body>.*?)(<!-- /results-table -->)",
    re.S,
)


def load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def metric(cases: dict, name: str, category: str | None = None) -> dict[str, float]:
    """{case: value} of one metric, over the cases of a category (all when None)."""
    return {
        k: s[name]
        for k, s in cases.items()
        if name in s
        and math.isfinite(s[name])
        and (category is None or category in s["categories"])
    }


def mean(values: dict[str, float]) -> float:
    return float(np.mean(list(values.values()))) if values else float("nan")


def shipped_sha() -> str:
    return json.loads(BUNDLED.read_text())["meta"]["sha256"]


def describe(run: dict) -> tuple[str, str]:
    """(row title, what the model saw of the set's categories) of one engine of a results file."""
    models = load("models.json")
    if run["engine"] != "prn":
        return models["engines"][run["engine"]]["title"], models["engines"][run["engine"]]["saw"]
    entry = models["weights"].get(run["weights_sha256"], {})
    tag = run.get("tag") or entry.get("tag") or Path(run["weights"]).stem
    shipped = " (shipped default)" if run["weights_sha256"] == shipped_sha() else ""
    return f"`{tag}`{shipped}", entry.get("saw", "not recorded")


def grid(head: list[str], rows: list[tuple[str, str, list[float]]], scale: str = "{:.2f}") -> str:
    """A Markdown table: title, saw, numbers; the lowest number of each column in bold among the
    rows that are not the guidance mask (their title says so)."""
    contenders = [r for r in rows if not r[0].startswith("guidance mask")]
    shown = [[scale.format(v) for v in r[2]] for r in rows]
    best = [
        min((float(scale.format(r[2][j])) for r in contenders), default=None)
        for j in range(len(head) - 2)
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (title, saw, _), cells in zip(rows, shown):
        marked = [
            f"**{c}**" if not title.startswith("guidance mask") and float(c) == best[j] else c
            for j, c in enumerate(cells)
        ]
        lines.append("| " + " | ".join([title, saw, *marked]) + " |")
    return "\n".join(lines)


def source(doc: dict, file: str) -> str:
    """One line under a table: the results file, its set, command, date and weights."""
    known = load("models.json")["weights"]
    shas = sorted(
        {
            f"`{r.get('tag') or known.get(r['weights_sha256'], {}).get('tag') or r['weights']}` "
            f"{r['weights_sha256'][:12]}…"
            for run in doc["runs"].values()
            for r in run.values()
            if r["weights_sha256"]
        }
    )
    return (
        f"*From [{file}]({{prefix}}docs/results/{file}) ({doc['set']['name']}, "
        f"{len(next(iter(doc['runs'].values()))[doc['engines'][0]]['per_case'])} targets; "
        f"`{doc['command']}`, {doc['date']}; weights sha256 {', '.join(shas)}).*"
    )


def wild_rows(doc: dict, guidance: str, cells: Callable[[dict], list[float]]) -> list[tuple]:
    return [
        (*describe(doc["runs"][guidance][label]), cells(doc["runs"][guidance][label]["per_case"]))
        for label in doc["engines"]
        if label in doc["runs"][guidance]
    ]


def per_case(doc: dict, label: str) -> tuple[list, list]:
    """An engine's per-case scores with paper and with noisy guidance."""
    return doc["runs"]["paper"][label]["per_case"], doc["runs"]["noisy"][label]["per_case"]


def readme_wild() -> str:
    doc = load("wild-test.json")
    order = ["guidance", "closed-form", *(e for e in doc["engines"] if e.startswith("prn"))]
    doc = {**doc, "engines": [e for e in order if e in doc["engines"]]}

    def cells(label: str) -> list[float]:
        paper, noisy = per_case(doc, label)
        return [
            mean(metric(paper, "SAD")),
            mean(metric(noisy, "SAD")),
            *(mean(metric(paper, "SAD", c)) for c in ("opaque", "fine", "partial")),
        ]

    head = ["engine", "saw these categories in training"]
    head += ["SAD, paper", "SAD, noisy", "opaque, paper", "fine strands, paper"]
    head += ["see-through, paper"]
    rows = [(*describe(doc["runs"]["paper"][e]), cells(e)) for e in doc["engines"]]
    return grid(head, rows) + "\n\n" + source(doc, "wild-test.json")


def card_wild() -> str:
    doc = load("wild-test.json")
    engines = [e for e in doc["engines"] if e != "guidance"]

    def cells(label: str) -> list[float]:
        paper, noisy = per_case(doc, label)
        return [
            mean(metric(paper, "SAD")),
            *(mean(metric(paper, "SAD", c)) for c in ("opaque", "fine", "partial", "occluded")),
            100 * mean(metric(paper, "Holes")),
            mean(metric(noisy, "SAD")),
            100 * mean(metric(noisy, "Holes")),
        ]

    head = ["engine", "saw these categories", "paper: SAD", "opaque", "fine", "partial"]
    head += ["occluded", "Holes %", "noisy: SAD", "Holes %"]
    rows = [(*describe(doc["runs"]["paper"][e]), cells(e)) for e in engines]
    return grid(head, rows) + "\n\n" + source(doc, "wild-test.json")


def full_wild(guidance: str) -> str:
    doc = load("wild-test.json")

    def cells(cases: dict) -> list[float]:
        return [
            mean(metric(cases, "SAD")),
            *(mean(metric(cases, "SAD", c)) for c in CATEGORIES),
            mean(metric(cases, "SAD_FG", "opaque")),
            mean(metric(cases, "SAD_BG")),
            mean(metric(cases, "SAD_OCC")),
            100 * mean(metric(cases, "Holes")),
        ]

    head = ["engine", "saw these categories", "SAD", *(f"SAD {c}" for c in CATEGORIES)]
    head += ["SAD_FG opaque", "SAD_BG", "SAD_OCC", "Holes %"]
    return grid(head, wild_rows(doc, guidance, cells)) + "\n\n" + source(doc, "wild-test.json")


def lead_wild(guidance: str) -> str:
    """Each engine's SAD lead over closed-form: (peer − engine) / peer."""
    doc = load("wild-test.json")
    runs = doc["runs"][guidance]
    peer = runs["closed-form"]["per_case"]
    parts = [("SAD", None), *(("SAD", c) for c in CATEGORIES), ("SAD_FG", "opaque")]
    lines = ["| engine | all | " + " | ".join(CATEGORIES) + " | SAD_FG opaque |", "|---" * 8 + "|"]
    for label in doc["engines"]:
        if label == "closed-form" or label not in runs:
            continue
        cells = []
        for name, cat in parts:
            p, e = mean(metric(peer, name, cat)), mean(metric(runs[label]["per_case"], name, cat))
            cells.append(f"{100 * (p - e) / p:+.0f}%")
        lines.append(f"| {describe(runs[label])[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired(doc: dict, a: str, b: str, guidance: str, name: str) -> tuple[float, float, float]:
    """Paired bootstrap of a − b over the cases of one guidance, or of both ('both')."""
    kinds = ("paper", "noisy") if guidance == "both" else (guidance,)
    xa, xb = {}, {}
    for g in kinds:
        xa |= {f"{g}/{k}": v for k, v in metric(doc["runs"][g][a]["per_case"], name).items()}
        xb |= {f"{g}/{k}": v for k, v in metric(doc["runs"][g][b]["per_case"], name).items()}
    return paired_bootstrap(xa, xb)


def pairs_wild(wanted: list[tuple[str, str]], guidances: tuple[str, ...]) -> str:
    doc = load("wild-test.json")
    lines = ["| a − b | guidance | SAD | SAD_FG | SAD_BG | Holes % |", "|---|---|---|---|---|---|"]
    for a, b in wanted:
        for guidance in guidances:
            cells = []
            for name, scale in (("SAD", 1), ("SAD_FG", 1), ("SAD_BG", 1), ("Holes", 100)):
                d, lo, hi = paired(doc, a, b, guidance, name)
                cells.append(f"{scale * d:+.2f} [{scale * lo:+.2f}, {scale * hi:+.2f}]")
            lines.append(f"| {a} − {b} | {guidance} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def deploy_speed() -> str:
    """The default engine against closed-form per target, from speed_real.py's --json file."""
    name = "experiments/results/speed_real_tune.json"
    doc = json.loads((ROOT / name).read_text())
    lines = ["| input | default engine | closed-form | ratio |", "| --- | ---: | ---: | ---: |"]
    for guidance, what in (("paper", "paper guidance"), ("noisy", "segmenter-like guidance")):
        rows = [r for r in doc["rows"] if r["guidance"] == guidance]
        ratio = [r["default_s"] / r["cf_s"] for r in rows]
        lines.append(
            f"| wild tune split, long side {doc['side']}, {what} ({len(rows)} targets) | "
            f"{np.median([r['default_s'] for r in rows]):.2f} s | "
            f"{np.median([r['cf_s'] for r in rows]):.2f} s | "
            f"median {np.median(ratio):.2f}×, worst {max(ratio):.2f}× |"
        )
    return "\n".join(lines) + (
        f"\n\n*Medians over the targets in [{name}]({{prefix}}{name}) (engine `{doc['engine']}`; "
        "the file keeps no weights hash, command or date: measured 2026-12-02 with the bundled "
        "round 9, by `python benchmarks/speed_real.py WILD_TUNE --json ...`).*"
    )


R9_R8 = ("prn-light.r9", "prn-light.r8")
TABLES: dict[str, Callable[[], str]] = {
    "deploy-speed": deploy_speed,
    "readme-wild": readme_wild,
    "card-wild": card_wild,
    "card-r9-r8": lambda: pairs_wild([R9_R8], ("paper", "noisy", "both")),
    "wild-paper": lambda: full_wild("paper"),
    "wild-noisy": lambda: full_wild("noisy"),
    "wild-lead-paper": lambda: lead_wild("paper"),
    "wild-lead-noisy": lambda: lead_wild("noisy"),
    "wild-pairs": lambda: pairs_wild(
        [R9_R8, ("prn-light.r9", "closed-form"), ("prn-light.r8", "closed-form")],
        ("paper", "noisy", "both"),
    ),
}


def regenerate(text: str, path: Path) -> str:
    """The document with every marked table rendered afresh from its results file."""
    # Links in a table are relative to its document; a copy outside the tree reads as README.
    where = path.resolve()
    prefix = "../" * len(where.relative_to(ROOT).parts[:-1]) if where.is_relative_to(ROOT) else ""

    def fill(m: re.Match) -> str:
        name = m["name"]
        if name not in TABLES:
            raise SystemExit(f"tables.py: {path}: unknown table {name!r}")
        body = TABLES[name]().replace("{prefix}", prefix)
        return f"{m.group(1)}{body}\n{m.group(4)}"

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a document's table differs")
    p.add_argument("docs", nargs="*", type=Path, default=DOCUMENTS)
    args = p.parse_args(argv)
    stale = []
    for path in args.docs:
        text = path.read_text()
        fresh = regenerate(text, path)
        if fresh != text:
            stale.append(path)
            if not args.check:
                path.write_text(fresh)
    verb = "differ from their results files" if args.check else "regenerated"
    for path in stale:
        print(f"{path}: tables {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
