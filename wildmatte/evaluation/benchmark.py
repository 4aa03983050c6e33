"""One benchmark run: every engine over every case, then results.json, results.md and grids.

OUT/
  predictions/<engine>/<case>.png, run.json   (reused on the next run: resumable)
  results.json, results.md                     (written atomically at the end)
  grid-<engine>.png                            (worst and best cases by SAD)
"""

from __future__ import annotations

from pathlib import Path

from wildmatte.evaluation.grid import make_grid
from wildmatte.evaluation.layouts import detect_layout, load_cases
from wildmatte.evaluation.report import eval_markdown, machine
from wildmatte.evaluation.run import EngineSpec, predict, score, summarise
from wildmatte.files import write_json, write_text


def grid_engine(engines: list[dict]) -> dict | None:
    """The engine whose grid the report shows: the first PRN, else the first non-mask engine."""
    scored = [e for e in engines if e["n"]]
    for choice in (
        [e for e in scored if e["engine"] == "prn"],
        [e for e in scored if e["engine"] != "guidance"],
        scored,
    ):
        if choice:
            return choice[0]
    return None


def memory_note(engines: list[dict]) -> str:
    methods = sorted({e["memory_method"] for e in engines if e.get("memory_method")})
    how = "; ".join(methods) or "not measured"
    return (
        f"peak memory while the engine loaded and ran, inputs read included ({how}), above "
        "the process's memory before; the highest over the runs that made the predictions"
    )


def run_benchmark(
    data: Path,
    specs: list[EngineSpec],
    out: Path,
    layout: str | None = None,
    mode: str = "paper",
    device: str | None = None,
    resume: bool = True,
    limit: int | None = None,
    progress: bool = True,
    grid_rows: int = 2,
    kernel: int = 25,
) -> dict:
    """Evaluate; returns the results dict (also saved). results['failures'] lists bad files."""
    data, out = Path(data), Path(out)
    layout = layout or detect_layout(data)
    cases, failures = load_cases(data, layout)
    cases = cases[:limit] if limit else cases
    engines = []
    for spec in specs:
        folder = out / "predictions" / spec.folder
        record, bad = predict(spec, cases, mode, folder, device, resume, progress, kernel)
        per_case, unscored = score(cases, folder)
        failures += bad + unscored
        row = summarise(spec, per_case, record)
        if per_case:
            sad = {name: s["SAD"] for name, s in per_case.items()}
            png = out / f"grid-{spec.folder}.png"
            grid = make_grid(cases, folder, sad, mode, png, spec.label, grid_rows, kernel=kernel)
            row["grid"] = grid.name if grid else None
        engines.append(row)
    results = {
        "data": str(data),
        "layout": layout,
        "guidance": mode,
        "kernel": kernel,
        "cases": len(cases),
        "machine": machine(),
        "memory_note": memory_note(engines),
        "engines": engines,
        "grid": (grid_engine(engines) or {}).get("grid"),
        "failures": list(dict.fromkeys(failures)),
    }
    write_json(out / "results.json", results)
    write_text(out / "results.md", eval_markdown(results))
    return results
