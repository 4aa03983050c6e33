"""Training-sample throughput of one data worker (one process, one thread) on the starter data.

Usage: python benchmarks/data_speed.py [--crop 512] [--n 200] [--procedural 0.3] [--noisy 0.5]
       [--modes ...]

Prints, per mode, samples/s by the wall clock and per CPU-second of this process. On a busy
machine (the load average is printed) the wall-clock figure mostly measures the other work;
samples per CPU-second is then the better estimate of what one core delivers, though shared
caches and memory bandwidth still slow it down.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy and torch start their thread pools

import argparse  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import torch  # noqa: E402

from wildmatte.data.dataset import MODES, _Prepared, build_train_dataset  # noqa: E402


def warm_caches(dataset) -> None:
    """Decode every foreground and background once, as a worker has after its first epoch.

    A few hundred warm-up samples leave many of the 200-odd starter cutouts cold, and a cold
    cutout costs a decode and a colour fill: that is file I/O, not the steady state.
    """
    for s, fg_set in enumerate(dataset.fg_sets):
        for j in range(len(fg_set)):  # the same cache keys as CompositeDataset._foreground
            dataset._cache.get(
                (s, j), lambda fg_set=fg_set, j=j: _Prepared(*fg_set[j], name=fg_set.names[j])
            )
    for j in range(len(dataset.bg_set)):
        dataset.bg_set.read_u8(j, min_side=dataset.crop_size)


def samples_per_second(
    mode: str, crop: int, n: int, procedural: float, noisy: float = 0.0
) -> tuple[float, float]:
    """(samples per wall-clock second, samples per CPU-second) over n warm samples."""
    cfg = {
        "fg": [{"type": "rgba", "root": "{data}/fg-train", "val_fraction": 0.12}],
        "bg": {"root": "{data}/bg-train", "val_fraction": 0.12},
        "crop_size": crop,
        "mode": mode,
        "procedural_ratio": procedural,
        "noisy_guidance_ratio": noisy,
        "length": 10 * n,
    }
    dataset = build_train_dataset(cfg, seed=0)
    warm_caches(dataset)
    for i in range(min(n, 20)):  # and the allocator
        dataset[i]
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n, 2 * n):
        dataset[i]
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=int, default=512)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--procedural", type=float, default=0.3)
    parser.add_argument(
        "--noisy", type=float, default=0.0, help="share of segmenter-like guidance (rounds 2-5)"
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average {load:.2f} on {cores} cores" + ("  (busy machine)" if load > 0.5 else ""))
    for mode in args.modes:
        wall, cpu = samples_per_second(mode, args.crop, args.n, args.procedural, args.noisy)
        print(
            f"{mode:14s} {args.crop}² crops, procedural {args.procedural:.0%}, "
            f"noisy guidance {args.noisy:.0%}: "
            f"{wall:6.1f} samples/s wall, {cpu:6.1f} samples per CPU-second"
        )


if __name__ == "__main__":
    main()
