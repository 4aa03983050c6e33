"""Running engines over benchmark cases: predictions to disk first (resumable), then scores.

Predictions are 16-bit PNGs under OUT/predictions/<engine label>/<case>.png. A prediction
already on disk is reused, not recomputed, so an interrupted run picks up where it stopped,
but only while run.json's fingerprint (engine, weights file, guidance) still matches; its
seconds and the engine's peak memory come from that run.json too. Scores are
always computed from the files on disk, so fresh and resumed runs give the same figures.
Prediction and scoring are separate passes so that the engine's peak memory is not mixed with
the metrics' own arrays.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from wildmatte.data.imageio import read_alpha
from wildmatte.errors import InputError, WildmatteError
from wildmatte.evaluation.layouts import Case, read_inputs, read_truth
from wildmatte.evaluation.memory import PeakMemory
from wildmatte.evaluation.metrics import evaluate
from wildmatte.files import write_json
from wildmatte.inference.engines import (
    CLASSIC_METHODS,
    DEFAULT_WEIGHTS,
    ENGINES,
    TRIMAPS,
    get_engine,
    pick_device,
)
from wildmatte.inference.io import write_png
from wildmatte.inference.pymatting_import import load_pymatting


@dataclass(frozen=True)
class EngineSpec:
    """An engine to run: `[label=]name[:weights]`, e.g. `prn:runs/a/model.safetensors`."""

    label: str
    name: str
    weights: str | None = None

    @property
    def folder(self) -> str:
        return re.sub(r"[^\w.-]+", "_", self.label)


def parse_engine(text: str) -> EngineSpec:
    label = None
    head, sep, tail = text.partition("=")
    if sep and head and not any(c in head for c in "/:\\"):
        label, text = head, tail
    name, _, weights = text.partition(":")
    if name not in ENGINES:
        raise InputError("--engines", f"unknown engine {name!r}: expected {', '.join(ENGINES)}")
    weights = weights or None
    if label is None:
        label = name if weights is None else f"{name}:{Path(weights).stem}"
    return EngineSpec(label, name, weights)


def _device_of(spec: EngineSpec, device: str | None) -> str:
    return str(pick_device(device)) if spec.name == "prn" else "cpu"


def fingerprint(spec: EngineSpec, mode: str) -> str:
    """What the predictions depend on: the engine, its weights file's size and time, the guidance.

    A saved prediction is reused only under the same fingerprint, so retrained weights under
    the same label are never scored from stale files.
    """
    weights = spec.weights or ""
    if spec.name == "prn":
        path = Path(weights) if weights else DEFAULT_WEIGHTS
        if path.suffix in ("", ".json") and path.with_suffix(".safetensors").is_file():
            path = path.with_suffix(".safetensors")
        if path.is_file():
            stat = path.stat()
            weights = f"{path.resolve()}@{stat.st_size}:{stat.st_mtime_ns}"
    if spec.name in CLASSIC_METHODS:  # retuned presets must not reuse stale predictions
        weights = repr(TRIMAPS[_preset(mode)])
    return f"{spec.name}:{weights}|{mode}"


def _preset(mode: str) -> str:
    return "noisy" if mode == "noisy" else "paper"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _crash(case: Case, spec: EngineSpec, err: Exception) -> str:
    return f"{case.image}: {spec.label} failed ({type(err).__name__}: {err})"


def predict(
    spec: EngineSpec,
    cases: list[Case],
    mode: str,
    folder: Path,
    device: str | None = None,
    resume: bool = True,
    progress: bool = True,
    kernel: int = 25,
) -> tuple[dict, list[str]]:
    """Write missing predictions; returns (run record {seconds, peak_mib, ...}, failures)."""
    key = fingerprint(spec, mode)
    record = _read_json(folder / "run.json") if resume else {}
    if record.get("fingerprint") != key:  # another engine, weights or guidance: start over
        record, resume = {}, False
    record.update(fingerprint=key)
    record.setdefault("seconds", {})
    todo = [c for c in cases if not (resume and (folder / f"{c.name}.png").is_file())]
    for case in todo:  # a stale file must not be scored if its recomputation fails
        (folder / f"{case.name}.png").unlink(missing_ok=True)
    failures: list[str] = []
    if not todo:
        return record, failures
    dev = _device_of(spec, device)
    if spec.name in CLASSIC_METHODS:
        load_pymatting()  # a library, like torch: not the engine's memory
    with PeakMemory(dev) as mem:
        try:
            # Each classic peer gets the trimap tuned for this kind of guidance: a fair peer.
            engine = get_engine(spec.name, spec.weights, device, trimap=_preset(mode))
        except WildmatteError as err:
            return record, [f"{spec.label}: {err}"]
        for case in tqdm(todo, desc=spec.label, disable=not progress, leave=False):
            try:
                inputs = read_inputs(case, mode, kernel)
                start = time.perf_counter()
                alpha = engine(inputs.image, inputs.guidance)
                seconds = time.perf_counter() - start
                if alpha.shape != inputs.gt.shape:
                    raise ValueError(f"returned {alpha.shape}, expected {inputs.gt.shape}")
            except WildmatteError as err:
                failures.append(str(err))
                continue
            except Exception as err:  # one engine crash must not lose a long run
                failures.append(_crash(case, spec, err))
                continue
            write_png(folder / f"{case.name}.png", alpha, bits=16)
            record["seconds"][case.name] = seconds
            write_json(folder / "run.json", record)
    # The peak over the runs that made these predictions (a resumed run only adds to it).
    record["peak_mib"] = max(record.get("peak_mib") or 0.0, mem.mib)
    record.update(memory_method=mem.method, device=dev)
    write_json(folder / "run.json", record)
    return record, failures


def score(cases: list[Case], folder: Path) -> tuple[dict[str, dict], list[str]]:
    """Metrics of every case whose prediction is on disk: {case name: scores}."""
    scores, failures = {}, []
    for case in cases:
        path = folder / f"{case.name}.png"
        if not path.is_file():
            continue
        try:
            gt, others = read_truth(case)
            pred = read_alpha(path)
            if pred.shape != gt.shape:
                raise InputError(path, f"prediction is {pred.shape}, ground truth {gt.shape}")
        except WildmatteError as err:
            failures.append(str(err))
            continue
        scores[case.name] = {
            **evaluate(pred, gt, occluded=others),
            "role": case.role,
            "categories": list(case.categories),
        }
    return scores, failures


_LABELS = ("role", "categories")  # per-case entries that are not scores


def mean_scores(per_case: dict[str, dict]) -> dict[str, float]:
    """Mean of each metric over the cases that have it (Holes: those with an opaque interior)."""
    keys = [k for k in next(iter(per_case.values()), {}) if k not in _LABELS]
    keys += sorted({k for s in per_case.values() for k in s} - set(keys) - set(_LABELS))
    return {k: float(np.mean([s[k] for s in per_case.values() if k in s])) for k in keys}


def by_category(per_case: dict[str, dict]) -> dict[str, dict]:
    """{"all": ..., category: ...} → {"n": cases, "mean": means}; a case counts in each of its
    categories. Cases without categories (other layouts) give just "all"."""
    out = {"all": {"n": len(per_case), "mean": mean_scores(per_case) if per_case else {}}}
    names = sorted({c for s in per_case.values() for c in s.get("categories", ())})
    for name in names:
        subset = {k: s for k, s in per_case.items() if name in s.get("categories", ())}
        out[name] = {"n": len(subset), "mean": mean_scores(subset)}
    return out


def summarise(spec: EngineSpec, per_case: dict[str, dict], record: dict) -> dict:
    """One engine's row: means overall, per role and per category, median seconds per image,
    peak memory.

    The median, so that the first call's warm-up (lazy imports, allocations) does not count.
    """
    seconds = [record["seconds"][n] for n in per_case if n in record.get("seconds", {})]
    roles = sorted({s["role"] for s in per_case.values()})
    categories = by_category(per_case)
    return {
        "label": spec.label,
        "engine": spec.name,
        "weights": spec.weights,
        "n": len(per_case),
        "mean": categories["all"]["mean"],
        "by_role": {
            r: mean_scores({k: s for k, s in per_case.items() if s["role"] == r}) for r in roles
        },
        "by_category": categories,
        "seconds_per_image": float(np.median(seconds)) if seconds else None,
        "peak_mib": record.get("peak_mib"),
        "device": record.get("device"),
        "memory_method": record.get("memory_method"),
        "per_case": per_case,
    }
