"""Engine speed: median latency, throughput and peak memory, each measurement in a fresh process.

Every (engine, size) is measured by its own child process (`python -m wildmatte.evaluation.speed
JOB`), so its peak memory is its own. On CPU: the peak resident set above the child's RSS after
importing torch (and pymatting for classic), so model weights, activations and the input count
but the libraries do not (see memory.py). On CUDA: torch.cuda.max_memory_allocated. The input is a synthetic square image (smooth noise) with an
elliptical guidance covering about a quarter of it. One untimed warm-up call comes first; the
repeats are cut down (to at least one) to fit a time budget. On CUDA, PRN is also timed in bf16
autocast and bf16 with channels-last memory, and at its best batch size (doubling the batch
until memory runs out or images/s gains less than 5 %).

Closed-form matting solves a sparse system over the unknown pixels, in time and memory growing
faster than the pixel count: above `classic_max_mp` megapixels it is reported as skipped, and
any child still running after `timeout` seconds is stopped and reported as skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import cv2
import numpy as np

from wildmatte.inference.engines import CLASSIC_METHODS, DEFAULT_WEIGHTS

# Speed does not depend on the weights: the prn presets time untrained models of each config.
RANDOM_MODELS = ("prn", "prn-light", "prn-tiny")
PRESETS = {
    **{name: ("prn", None) for name in RANDOM_MODELS},
    **{name: (name, None) for name in CLASSIC_METHODS},
    "guidance": ("guidance", None),
}
DEFAULT_ENGINES = ("prn", "prn-light", "classic", "classic-knn", "classic-lkm")
_VARIANTS = (("fp32", False), ("bf16", False), ("bf16+channels-last", True))


def synthetic_inputs(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    small = rng.random((16, 16, 3), dtype=np.float32)
    image = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    guidance = np.zeros((size, size), np.uint8)
    c, r = size // 2, size // 3
    cv2.ellipse(guidance, (c, c), (r, int(r * 0.75)), 20, 0, 360, 1, -1)
    return np.clip(image, 0, 1), guidance.astype(np.float32)


def timed(call, repeats: int, budget_s: float, sync=lambda: None) -> list[float]:
    """Seconds of each timed call, after one warm-up; fewer repeats if the budget needs it."""
    start = time.perf_counter()
    call()
    sync()
    warm = time.perf_counter() - start
    n = max(1, min(repeats, int(budget_s / max(warm, 1e-6))))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        sync()
        times.append(time.perf_counter() - start)
    return times


def _row(job: dict, times: list[float], peak: float, **extra) -> dict:
    median = float(np.median(times))
    batch = extra.get("batch", 1)
    return {
        "engine": job["label"],
        "size": job["size"],
        "device": job["device"],
        "precision": "fp32",
        "batch": batch,
        "median_s": median,
        "throughput": batch / median,
        "peak_mib": peak,
        "repeats": len(times),
        **extra,
    }


def measure_cpu(job: dict) -> list[dict]:
    import torch

    from wildmatte.evaluation.memory import PeakMemory
    from wildmatte.inference.engines import get_engine
    from wildmatte.inference.pymatting_import import load_pymatting

    if job["name"] in CLASSIC_METHODS:
        load_pymatting()  # before the baseline, as torch is
    if job["name"] == "onnx":
        from wildmatte.inference.onnx_engine import onnx_engine

        onnx_engine(job["weights"], DEFAULT_WEIGHTS)  # the one-off export is not measured
    image, guidance = synthetic_inputs(job["size"])
    with PeakMemory("cpu") as mem:
        engine = get_engine(job["name"], job["weights"], "cpu", **_random_init(job))
        times = timed(lambda: engine(image, guidance), job["repeats"], job["budget_s"])
    precision = (
        "fp64"
        if job["name"] in CLASSIC_METHODS
        else {"prn": "fp32", "onnx": "fp32"}.get(job["name"], "—")
    )
    threads = torch.get_num_threads()
    return [_row(job, times, mem.mib, precision=precision, memory=mem.method, threads=threads)]


def _cuda_forward(model, x, g, precision: str):
    import torch

    dtype = torch.bfloat16 if precision.startswith("bf16") else torch.float32
    with torch.inference_mode(), torch.autocast("cuda", dtype, enabled=dtype != torch.float32):
        return model(x, g)["alpha"]


def _cuda_measure(job: dict, model, precision: str, channels_last: bool, batch: int) -> dict:
    import torch

    from wildmatte.evaluation.memory import PeakMemory

    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    s = job["size"]
    image, guidance = synthetic_inputs(s)
    x = torch.from_numpy(image.transpose(2, 0, 1)).cuda().expand(batch, 3, s, s).contiguous()
    g = torch.from_numpy(guidance).cuda().expand(batch, 1, s, s).contiguous()
    x, g = x.to(memory_format=fmt), g.to(memory_format=fmt)
    with PeakMemory("cuda") as mem:
        times = timed(
            lambda: _cuda_forward(model, x, g, precision),
            job["repeats"],
            job["budget_s"],
            torch.cuda.synchronize,
        )
    return _row(job, times, mem.mib, precision=precision, batch=batch, memory=mem.method)


def measure_cuda(job: dict) -> list[dict]:
    """Batch 1 in each precision/layout, then the best batch of the fastest one."""
    import torch

    from wildmatte.inference.engines import load_prn

    if job["name"] != "prn":
        reason = "runs on the CPU only (see the CPU table)"
        return [{"engine": job["label"], "size": job["size"], "device": "cuda", "skipped": reason}]
    model = load_prn(job["weights"], torch.device("cuda"), **_random_init(job))
    rows = [_cuda_measure(job, model, p, cl, 1) for p, cl in _VARIANTS]
    fastest = max(rows, key=lambda r: r["throughput"])
    precision, channels_last = next(v for v in _VARIANTS if v[0] == fastest["precision"])
    best, batch = fastest, 2
    while batch <= 256:
        try:
            row = _cuda_measure(job, model, precision, channels_last, batch)
        except torch.cuda.OutOfMemoryError:
            break
        finally:
            torch.cuda.empty_cache()
        if row["throughput"] < 1.05 * best["throughput"]:
            break
        best, batch = row, batch * 2
    if best["batch"] > 1:
        rows.append({**best, "note": "best batch"})
    return rows


def _random_init(job: dict) -> dict:
    """load_prn's arguments for an untrained preset model, none for a weights file."""
    return {"init": "random", "model": job["model"]} if job.get("model") else {}


def worker(job: dict) -> list[dict]:
    return measure_cuda(job) if job["device"].startswith("cuda") else measure_cpu(job)


def engine_job(text: str, device: str = "cpu") -> dict:
    """A preset name (default, prn, prn-light, prn-tiny, classic, guidance) or
    `[label=]prn:WEIGHTS`. `default` is exactly what `wildmatte predict` runs on that device."""
    if text == "default":
        from wildmatte.inference.engines import default_engine_name

        name = default_engine_name(None, device)
        return {"label": f"default ({name})", "name": name, "weights": None}
    if text in PRESETS:
        name, weights = PRESETS[text]
        model = text if text in RANDOM_MODELS else None
        return {"label": text, "name": name, "weights": weights, "model": model}
    from wildmatte.evaluation.run import parse_engine

    spec = parse_engine(text)
    return {"label": spec.label, "name": spec.name, "weights": spec.weights}


def skip_reason(job: dict, classic_max_mp: float) -> str | None:
    if job["name"] not in CLASSIC_METHODS or job["device"].startswith("cuda"):
        return None
    mp = job["size"] ** 2 / 1e6
    # KNN and large-kernel matting solve denser systems than closed-form: a quarter of its budget.
    budget = classic_max_mp if job["name"] == "classic" else classic_max_mp / 4
    if mp > budget:
        what = "closed-form" if job["name"] == "classic" else job["name"]
        return f"{what} at {mp:.2g} MP is over the {budget:g} MP budget"
    return None


def run_job(job: dict, timeout: float) -> list[dict]:
    """Measure in a child process; a timeout or a crash becomes a skipped row with the reason."""
    base = {"engine": job["label"], "size": job["size"], "device": job["device"]}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "wildmatte.evaluation.speed", json.dumps(job)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return [{**base, "skipped": f"still running after {timeout:g} s"}]
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [{**base, "skipped": f"failed: {last[:160]}"}]
    return json.loads(lines[-1])


def speed_rows(
    engines: list[str],
    sizes: list[int],
    device: str = "cpu",
    repeats: int = 5,
    budget_s: float = 60.0,
    timeout: float = 600.0,
    classic_max_mp: float = 4.5,
    progress=print,
) -> list[dict]:
    rows = []
    for text in engines:
        for size in sizes:
            job = {**engine_job(text, device), "size": size, "device": device}
            job.update(repeats=repeats, budget_s=budget_s)
            reason = skip_reason(job, classic_max_mp)
            got = [{"engine": job["label"], "size": size, "device": device, "skipped": reason}]
            if not reason:
                got = run_job(job, timeout)
            for row in got:
                progress(_progress_line(row))
            rows += got
    return rows


def _progress_line(row: dict) -> str:
    head = f"{row['engine']} {row['size']}² {row['device']}"
    if row.get("skipped"):
        return f"{head}: skipped: {row['skipped']}"
    return (
        f"{head} {row.get('precision', 'fp32')} batch {row.get('batch', 1)}: "
        f"{row['median_s'] * 1e3:.1f} ms, {row['peak_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
