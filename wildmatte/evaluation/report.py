"""Markdown tables of evaluation and speed results, and the machine they were measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

METRICS = ("SAD", "MSE", "Grad", "Conn", "SAD_FG", "SAD_BG", "SAD_OCC", "Holes")
# The wild set's categories, in the order the report shows them; others follow alphabetically.
CATEGORY_ORDER = ("all", "opaque", "fine", "partial", "occluded", "interior")


def _cell(value: float | None, metric: str = "") -> str:
    if value is None:
        return "—"
    if metric == "MSE":
        return f"{value * 1e3:.2f}"  # shown ×10³, as matting papers do
    if metric == "Holes":
        return f"{value * 100:.2f}"  # a share, shown in %
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _header(names: list[str]) -> list[str]:
    return [_row(names), _row(["---"] * len(names))]


def _metric_names(rows: list[dict]) -> list[str]:
    return [m for m in METRICS if any(m in r for r in rows)]


def _column(metric: str) -> str:
    return {"MSE": "MSE×10³", "Holes": "Holes %"}.get(metric, metric)


def metrics_table(engines: list[dict]) -> str:
    """Rows per engine: whole-image metrics (SAD, Grad, Conn /1000; MSE ×10³), s/img, peak MiB."""
    metrics = _metric_names([e["mean"] for e in engines]) or list(METRICS)
    names = ["engine", *(_column(m) for m in metrics)]
    lines = _header([*names, "median s / image", "peak MiB", "n"])
    for e in engines:
        cells = [_cell(e["mean"].get(m), m) for m in metrics]
        peak = e.get("peak_mib")
        lines.append(
            _row(
                [
                    e["label"],
                    *cells,
                    _cell(e.get("seconds_per_image")),
                    "—" if peak is None else f"{peak:.0f}",
                    str(e["n"]),
                ]
            )
        )
    return "\n".join(lines)


def role_table(engines: list[dict]) -> str:
    """SAD and SAD_OCC per target role (front / occluded), for layouts that have roles."""
    roles = sorted({r for e in engines for r in e.get("by_role", {})})
    if len(roles) < 2:
        return ""
    cols = [f"{m} {r}" for r in roles for m in ("SAD", "SAD_OCC")]
    lines = _header(["engine", *cols])
    for e in engines:
        by = e["by_role"]
        cells = [_cell(by.get(r, {}).get(m)) for r in roles for m in ("SAD", "SAD_OCC")]
        lines.append(_row([e["label"], *cells]))
    return "\n".join(lines)


def _categories(engines: list[dict]) -> list[str]:
    found = {c for e in engines for c in e.get("by_category", {})}
    known = [c for c in CATEGORY_ORDER if c in found]
    return known + sorted(found - set(known))


def category_table(engines: list[dict]) -> str:
    """Every metric per target category (a target counts in each of its categories) and over
    all targets; empty when the cases have no categories."""
    categories = _categories(engines)
    if categories in ([], ["all"]):
        return ""
    groups = [e["by_category"][c] for e in engines for c in categories if c in e["by_category"]]
    metrics = _metric_names([g["mean"] for g in groups]) or list(METRICS)
    lines = _header(["engine", "category", "n", *(_column(m) for m in metrics)])
    for e in engines:
        for c in categories:
            group = e.get("by_category", {}).get(c)
            if group:
                cells = [_cell(group["mean"].get(m), m) for m in metrics]
                lines.append(_row([e["label"], c, str(group["n"]), *cells]))
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.3g}"


def speed_table(rows: list[dict]) -> str:
    names = ["engine", "size", "device", "precision", "batch", "median ms", "images/s", "peak MiB"]
    lines = _header(names)
    for r in rows:
        if r.get("skipped"):
            cells = [
                r["engine"],
                f"{r['size']}²",
                r.get("device", ""),
                "",
                "",
                f"skipped: {r['skipped']}",
                "",
                "",
            ]
        else:
            cells = [
                r["engine"],
                f"{r['size']}²",
                r["device"] + (f" (threads: {r['threads']})" if r.get("threads") else ""),
                r.get("precision", "fp32"),
                str(r.get("batch", 1)),
                _ms(r["median_s"]),
                f"{r['throughput']:.3g}" if r["throughput"] < 1000 else f"{r['throughput']:.0f}",
                f"{r['peak_mib']:.0f}",
            ]
        lines.append(_row(cells))
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The CPU, cores, torch version and threads, GPU if any, and the load at measurement time."""
    import torch

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def machine_line(info: dict) -> str:
    gpu = f", GPU {info['gpu']}" if info.get("gpu") else ", no GPU"
    return (
        f"{info['cpu']}, {info['cores']} cores{gpu}; torch {info['torch']} "
        f"(threads: {info['torch_threads']}), Python {info['python']}; "
        f"1-min load average {info['load_average_1min']} when measured"
    )


def eval_markdown(results: dict) -> str:
    """The whole evaluation report: settings, the main table, per-role table, failures."""
    parts = [
        f"# Evaluation: {results['data']}",
        "",
        f"Layout `{results['layout']}`, guidance `{results['guidance']}`, "
        f"{results['cases']} cases. Machine: {machine_line(results['machine'])}.",
        "",
        "SAD, Grad, Conn: /1000 over the whole image; MSE ×10³; SAD_FG where the target's "
        "alpha > 0, SAD_BG elsewhere, SAD_OCC on the other objects; Holes %: share of the "
        "target's opaque interior (alpha ≥ 0.99, more than 5 px in) predicted below 0.5, "
        "over the targets that have one. "
        f"Peak MiB: {results['memory_note']}.",
        "",
        metrics_table(results["engines"]),
    ]
    roles = role_table(results["engines"])
    if roles:
        parts += ["", "By target:", "", roles]
    categories = category_table(results["engines"])
    if categories:
        parts += ["", f"By category (guidance `{results['guidance']}`):", "", categories]
    if results["failures"]:
        parts += ["", f"Failures ({len(results['failures'])}):", ""]
        parts += [f"- {f}" for f in results["failures"]]
    return "\n".join(parts) + "\n"
