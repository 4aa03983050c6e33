"""Training step speed: fp32 and bf16 side by side, the model's own step against the trainer's.

Usage: python benchmarks/train_speed.py [--config effl0] [--steps 5] [--warmup 3]
       [--precisions fp32,bf16] [--threads 2]

Rows, all in one process on the same model (the config's, from its `init`):
- `plain fp32`: forward + backward + Adam on random tensors, contiguous layout, no autocast: the
  reference every row is divided by;
- `model`: the same in the row's precision with channels_last;
- `trainer`: `trainer.TrainStep` (losses in fp32, bands, clipping, scheduler) on real samples
  from the config's data through the trainer's own loader and worker, data waits included;
- `trainer, no data`: the same steps on batches made beforehand, so the difference is the data.

Each figure is the median of `--steps` steps after `--warmup` warm ones. On a CPU without native
bf16 the bf16 rows run emulated (several times slower) and are marked so.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from wildmatte.training.config import deep_merge, load_config
from wildmatte.training.precision import BF16, FP32, autocast, native_bf16
from wildmatte.training.trainer import (
    TRAIN_DEFAULTS,
    Dist,
    TrainStep,
    _loader,
    _to,
    build_model,
)


def _median_time(fn, steps: int, warmup: int) -> float:
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times[warmup:])


def model_step(cfg: dict, batch: dict, precision: str, channels_last: bool):
    """A bare step: forward, the mean of every output as the loss, backward, Adam."""
    model = build_model(cfg).train()
    image, guidance = batch["image"], batch["guidance"]
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
        guidance = guidance.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 1e-4)

    def step(_: int) -> None:
        with autocast(precision, image.device):
            out = model(image, guidance)
        loss = sum(v.float().mean() for v in out.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def trainer_step(cfg: dict, tc: dict, precision: str, batches):
    """TrainStep as the trainer builds it, fed from `batches(i)`; bands on from the first step."""
    model = build_model(cfg).to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), tc["lr"], betas=tuple(tc["betas"]))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    run = TrainStep(model, model, opt, deep_merge(tc, {"band_warmup": 0}), precision, sched)
    return lambda i: run(_to(batches(i), torch.device("cpu"), True), i)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", default="effl0")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, help="default: the config's")
    ap.add_argument("--crop", type=int, help="default: the config's")
    args = ap.parse_args()

    if not set(args.precisions.split(",")) <= {FP32, BF16}:
        ap.error(f"--precisions: {FP32} and/or {BF16}")
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    if args.crop:
        cfg["data"]["crop_size"] = args.crop
    tc = deep_merge(TRAIN_DEFAULTS, cfg.get("train", {}))
    bs = args.batch_size or tc["batch_size"]
    crop = cfg["data"]["crop_size"]
    cpu = torch.device("cpu")

    from wildmatte.data.dataset import build_train_dataset

    dataset = build_train_dataset(cfg["data"], seed=tc["seed"])
    total = args.warmup + args.steps
    fixed = list(_loader(dataset, bs, Dist(), 0, total, 0))  # batches made beforehand
    random_batch = {
        "image": torch.rand(bs, 3, crop, crop),
        "guidance": (torch.rand(bs, 1, crop, crop) > 0.5).float(),
    }

    print(
        f"{cfg.get('name')} ({cfg.get('model')}), batch {bs} at {crop}², {args.threads} threads, "
        f"median of {args.steps} steps after {args.warmup}; native bf16: {native_bf16(cpu)}"
    )
    rows = [("plain fp32", model_step(cfg, random_batch, FP32, channels_last=False))]
    for precision in args.precisions.split(","):
        tag = precision if precision == FP32 or native_bf16(cpu) else f"{precision} (emulated)"
        loader = iter(_loader(dataset, bs, Dist(), 0, 10**9, tc["workers"]))
        rows += [
            (f"{tag} model", model_step(cfg, random_batch, precision, channels_last=True)),
            (f"{tag} trainer, no data", trainer_step(cfg, tc, precision, lambda i: fixed[i])),
            (
                f"{tag} trainer",
                trainer_step(cfg, tc, precision, lambda i, it=loader: next(it)),
            ),
        ]

    print("| step | s/step | samples/s | × plain fp32 |\n|---|---|---|---|")
    plain = None
    for name, step in rows:
        sec = _median_time(step, args.steps, args.warmup)
        plain = plain or sec
        print(f"| {name} | {sec:.2f} | {bs / sec:.2f} | {sec / plain:.2f} |", flush=True)


if __name__ == "__main__":
    main()
