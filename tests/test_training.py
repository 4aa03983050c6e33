"""Training: a short run's loss drops, DDP on 2 CPU processes, kill-and-resume continues exactly."""

import csv
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors import safe_open
from safetensors.torch import load_file

from wildmatte.training import trainer
from wildmatte.training.config import available_configs, load_config
from wildmatte.training.trainer import TimeBudget, _to, half_collate, lr_factor, train

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments" / "configs"


def config(name: str) -> dict:
    """A package config by name, else an experiment's from experiments/configs/."""
    return load_config(name if name in available_configs() else EXPERIMENTS / f"{name}.yaml")


def tiny_config(data: dict, **train_overrides) -> dict:
    train_cfg = {
        "steps": 20,
        "batch_size": 4,
        "lr": 2e-3,
        "warmup_steps": 2,
        "band_warmup": 10,
        "workers": 0,
        "ckpt_every": 5,
        "val_every": 10,
        "log_every": 1,
        "device": "cpu",
    }
    train_cfg.update(train_overrides)
    return {
        "name": "tiny",
        "model": "prn-tiny",
        "data": {
            "fg": [{"type": "rgba", "root": str(data["fg"]), "val_fraction": 0.34}],
            "bg": {"root": str(data["bg"]), "val_fraction": 0.25},
            "crop_size": 64,
            "mode": "instance-wise",
            "procedural_ratio": 0.0,
            "length": 8,  # a few samples seen again and again: the loss must fall
            "val": {"n": 3, "size": 64, "seed": 1, "guidance": "paper"},
        },
        "train": train_cfg,
    }


def read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_lr_schedule_warms_up_then_decays():
    assert lr_factor(0, 10, 100, 0.0) == 0.1
    assert lr_factor(9, 10, 100, 0.0) == 1.0
    assert 0.49 < lr_factor(55, 10, 100, 0.0) < 0.51
    assert lr_factor(100, 10, 100, 0.05) == 0.05


def test_named_configs_load_and_inherit():
    cfg = config("open-default")
    assert cfg["model"] == "prn-light" and cfg["data"]["mode"] == "instance-wise"
    assert load_config("mgmatting")["data"]["cutmask"] is True
    assert load_config("mgmatting-star")["data"]["mode"] == "merge"
    paper = load_config("paper")
    assert paper["model"] == "prn" and paper["train"]["batch_size"] == 40
    assert paper["train"]["steps"] == 100000 and paper["data"]["crop_size"] == 512
    assert load_config("paper", ["train.steps=20"])["train"]["steps"] == 20
    # Every config resolves its base chain (tests/test_configs.py), and the CPU-scale Table 1
    # trio differs only in how samples are drawn.
    trio = [config(f"open-{n}") for n in ("instance-wise", "mgmatting", "mgmatting-star")]
    assert {str(c["train"]) for c in trio} == {str(trio[0]["train"])}
    assert [(c["data"]["mode"], c["data"]["cutmask"]) for c in trio] == [
        ("instance-wise", False),
        ("merge", True),
        ("merge", False),
    ]


def test_cpu_scale_stage2_rows_change_one_thing_each():
    base = config("open-selftrain")
    assert base["selftrain"]["init"] == "runs/open-instance-wise/model.safetensors"
    control = config("open-stage2-control")
    assert "selftrain" not in control and control["init"] == base["selftrain"]["init"]
    assert control["train"] == base["train"] and control["data"] == base["data"]
    views = {
        "no-guide-pert": {"pixel": True, "region": False, "guidance": False},
        "no-image-pert": {"pixel": False, "region": False, "guidance": True},
        "region-pert": {"pixel": False, "region": True, "guidance": True},
        "pixel+region-pert": {"pixel": True, "region": True, "guidance": True},
    }
    for name, expected in views.items():
        cfg = config(f"open-{name}")
        assert {k: cfg["selftrain"]["views"][k] for k in expected} == expected, name
        cfg["selftrain"]["views"] = base["selftrain"]["views"]
        assert {**cfg, "name": base["name"]} == base, name
    seg = config("open-segmentation-training")
    assert seg["selftrain"]["mode"] == "segmentation" and seg["model"]["seg_head"] is True
    assert seg["train"] == base["train"] and seg["selftrain"]["views"] == base["selftrain"]["views"]


def _differ_only_in(base: str, variant: str, *keys: str) -> tuple[dict, dict]:
    """Base's and variant's train[key] for each key: the configs must agree on everything else."""
    a, b = config(base), config(variant)
    values = {k: a["train"].pop(k, None) for k in keys}, {k: b["train"].pop(k, None) for k in keys}
    assert {**b, "name": a["name"]} == a
    return values


def test_background_loss_experiment_changes_only_the_loss():
    control, bgloss = _differ_only_in("open-bgloss-control", "open-bgloss", "loss")
    assert bgloss["loss"] == {"l1": 1.0, "comp": 1.0, "lap": 1.0, "bg": 2.0}
    assert "bg" not in (control["loss"] or {})
    assert config("open-bgloss-control")["train"]["minutes"] is None  # the same step count


def test_frozen_bn_experiment_changes_only_batchnorm():
    free, frozen = _differ_only_in("open-bgloss512", "open-bgloss512-frozen-bn", "freeze_bn")
    assert frozen["freeze_bn"] is True and not free["freeze_bn"]


@pytest.mark.parametrize("weight", [4, 8, 16, 32])
def test_heavier_background_loss_experiments_change_only_its_weight(weight):
    control, heavier = _differ_only_in(
        "open-round6-more", f"open-bgloss{weight}-frozen-bn", "loss", "minutes", "steps"
    )
    assert control["loss"]["bg"] == 2.0
    assert heavier["loss"] == {**control["loss"], "bg": float(weight)}
    # The control ran on a 40-minute budget, which fitted its schedule to 412 steps.
    assert control["minutes"] == 40.0 and (heavier["minutes"], heavier["steps"]) == (None, 412)


@pytest.mark.parametrize(
    "run, continued, minutes",
    [
        ("open-bgloss32-frozen-bn", "open-bgloss32-more", None),
        ("open-bgloss8-frozen-bn", "open-round7-more", None),
        ("open-default-v8-bg16", "open-default-v8-bg16-more", 3.0),
        ("open-default-v8-bg16-more", "open-default-v9", 10.0),
    ],
)
def test_continued_runs_change_only_their_start_and_budget(run, continued, minutes):
    """A continued run starts from its run's weights; a GPU one also sets its own minutes."""
    before, after = config(run), config(continued)
    assert after["init"] == f"runs/{run}/model.safetensors"
    if minutes is not None:
        assert after["train"].pop("minutes") == minutes
        before["train"].pop("minutes")
    assert {**after, "name": before["name"], "init": before["init"]} == before


@pytest.mark.parametrize("weight", [16, 32])
def test_gpu_sweep_runs_differ_from_weight_8_only_in_the_background_weight(weight):
    control, heavier = _differ_only_in("open-default-v8", f"open-default-v8-bg{weight}", "loss")
    assert heavier["loss"] == {**control["loss"], "bg": float(weight)}


@pytest.mark.parametrize("weight", [8, 32])
def test_missed_piece_loss_experiments_add_only_that_term(weight):
    control, variant = _differ_only_in("open-bgloss32-frozen-bn", f"open-missed{weight}", "loss")
    assert variant["loss"] == {**control["loss"], "missed": float(weight)}
    assert "missed" not in control["loss"]


def test_frozen_batchnorm_keeps_its_statistics_and_learns_its_affine():
    from wildmatte.model import PRN, get_config

    torch.manual_seed(0)
    model = PRN(get_config("prn-tiny"))
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:  # non-trivial statistics, as after a real run
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bn_weight = bns[0].weight.detach().clone()

    trainer.train_mode(model, freeze_bn=True)
    assert bns and not any(bn.training for bn in bns) and model.training
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(torch.rand(2, 3, 64, 64), torch.rand(2, 1, 64, 64).round())
    sum(v.mean() for v in out.values()).backward()
    optimizer.step()

    after = model.state_dict()
    stats = [k for k in before if "running_" in k or "num_batches" in k]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)
    assert not torch.equal(bns[0].weight.detach(), bn_weight)

    trainer.train_mode(model)  # the default: BatchNorm trains like everything else
    assert all(bn.training for bn in bns)


@pytest.mark.slow
def test_twenty_steps_lower_the_loss_and_write_logs(tiny_data, tmp_path):
    out = tmp_path / "run"
    final = train(tiny_config(tiny_data, ema=0.9), out)
    rows = read_rows(out / "metrics.csv")
    losses = [float(r["loss"]) for r in rows]
    assert len(losses) == 20
    assert all(0 <= float(r["sec_data_wait"]) <= float(r["sec_per_step"]) for r in rows)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    assert (
        final.is_file() and (out / "model.json").is_file() and (out / "best.safetensors").is_file()
    )
    val = read_rows(out / "val.csv")
    assert [int(r["step"]) for r in val] == [10, 20]
    assert all(np.isfinite(float(r["paper/SAD"])) for r in val)
    assert all(np.isfinite(float(r["ema-paper/SAD"])) for r in val)  # the average, validated
    assert (out / "ema.safetensors").is_file() and (out / "ema.json").is_file()
    assert (out / "loss.png").stat().st_size > 1000


def test_weight_average_follows_the_weights_and_batchnorm_statistics():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    assert trainer.weight_average(net, None) is None
    average = trainer.weight_average(net, 0.5)
    start = net[0].weight.detach().clone()
    average.update_parameters(net)  # the first update copies
    with torch.no_grad():
        net[0].weight.add_(2.0)
    net.train()(torch.randn(4, 1, 3, 3) + 5)  # moves the running mean
    average.update_parameters(net)
    assert torch.allclose(average.module[0].weight, start + 1.0)  # halfway, at decay 0.5
    mean = average.module[1].running_mean
    assert torch.allclose(mean, net[1].running_mean / 2)  # buffers averaged too (from 0)
    assert not any(p.requires_grad for p in average.parameters())


def test_time_budget_fits_the_steps_to_the_measured_speed(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(trainer.time, "perf_counter", lambda: clock[0])
    budget = TimeBudget(minutes=1.0, cap=10_000, start=0, skip=2, every=4)
    clock[0] += 5.0  # building the data and model: counted against the budget
    total = 10_000
    for step in range(1, 11):
        clock[0] += 0.5  # one step
        total = budget.plan(step, total)
        if step < 6:  # not yet re-fitted: two steps skipped, then four measured
            assert total == 10_000
    # 10 steps done 10 s in; 50 s left at 0.5 s a step: 100 more.
    assert total == 10 + 100
    assert TimeBudget(1.0, cap=50, start=0, skip=2, every=4).plan(2, 50) == 50
    late = TimeBudget(1.0, cap=10_000, start=0, skip=20, every=20)
    clock[0] += 61.0  # slower steps than the budget allows a fit for
    assert late.plan(3, 10_000) == 3
    capped = TimeBudget(1.0, cap=50, start=0, skip=0, every=1)
    assert capped.plan(0, 50) == 50 and capped.plan(1, 50) == 50  # fast steps: the cap holds


def test_half_collate_halves_floats_and_to_restores_float32():
    samples = [{"image": torch.rand(3, 8, 8), "index": torch.tensor(i)} for i in range(2)]
    batch = half_collate(samples)
    assert batch["image"].dtype == torch.float16 and batch["index"].dtype == torch.int64
    moved = _to(batch, torch.device("cpu"))
    assert moved["image"].dtype == torch.float32 and moved["index"].dtype == torch.int64
    exact = torch.stack([s["image"] for s in samples])
    assert float((moved["image"] - exact).abs().max()) <= 2.5e-4


@pytest.mark.slow
def test_minutes_budget_ends_the_schedule_when_the_time_ends(tiny_data, tmp_path, monkeypatch):
    # A clock that moves 20 ms per reading (about 4 per step): the run sees the same speed on
    # any machine, however loaded, so the fit and the stop are the same everywhere.
    clock = itertools.count(0.0, 0.02)
    monkeypatch.setattr(trainer.time, "perf_counter", lambda: next(clock))
    out = tmp_path / "run"
    cfg = tiny_config(tiny_data, steps=100_000, minutes=0.1, val_every=0, ckpt_every=1000)
    train(cfg, out)
    rows = read_rows(out / "metrics.csv")
    assert 50 < len(rows) < 100  # 6 s of budget at about 80 ms a step
    lrs = [float(r["lr"]) for r in rows]
    # Warm-up, then a cosine that reaches its floor (1% of 2e-3) on the last step.
    assert lrs[-1] < 0.05 * max(lrs)
    assert _checkpoint_step(out / "checkpoint.safetensors") == len(rows)
    # Resumed, it keeps the fitted plan (here: already done) rather than a fresh budget.
    train(cfg, out, resume=True)
    assert len(read_rows(out / "metrics.csv")) == len(rows)
    assert _checkpoint_step(out / "checkpoint.safetensors") == len(rows)


def _cli(args, env=None):
    return [sys.executable, "-m", "wildmatte", "train", *args]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


def _checkpoint_step(path) -> int:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["wildmatte_checkpoint"])["step"]


def test_until_pauses_with_a_checkpoint_and_resume_finishes_the_same_run(tiny_data, tmp_path):
    cfg = tiny_config(tiny_data, steps=12, ckpt_every=100, val_every=0, ema=0.9, snapshot_every=5)
    assert train(cfg, tmp_path / "full") == tmp_path / "full" / "model.safetensors"

    paused = tmp_path / "paused"
    assert train(cfg, paused, until=7) is None
    assert _checkpoint_step(paused / "checkpoint.safetensors") == 7
    assert not (paused / "model.safetensors").exists()
    assert sorted(p.name for p in (paused / "snapshots").glob("*.safetensors")) == [
        "ema-step-000005.safetensors",
        "step-000005.safetensors",
    ]
    train(cfg, paused, resume=True)
    assert (paused / "snapshots" / "step-000010.safetensors").is_file()
    for name in ("model", "ema", "snapshots/step-000010"):
        a = load_file(str(tmp_path / "full" / f"{name}.safetensors"))
        b = load_file(str(paused / f"{name}.safetensors"))
        for key in a:
            assert torch.allclose(a[key], b[key], atol=1e-6), (name, key)


def test_cli_until_pauses_and_says_how_to_go_on(tiny_data, tmp_path):
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(tiny_config(tiny_data, steps=12, val_every=0)))
    out = tmp_path / "run"
    done = subprocess.run(
        _cli(["--config", str(cfg_path), "--out", str(out), "--until", "3"]),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "paused (--until 3)" in done.stdout and "--resume" in done.stdout
    assert _checkpoint_step(out / "checkpoint.safetensors") == 3
    assert not (out / "model.safetensors").exists()


@pytest.mark.slow
# bf16 forced: emulated where not native. The weight average (train.ema) resumes exactly too.
@pytest.mark.parametrize("amp, ema", [(True, 0.9), ("bf16", None)])
def test_killed_run_resumes_exactly(tiny_data, tmp_path, amp, ema):
    cfg_path = tmp_path / "cfg.yaml"
    steps = 60
    cfg = tiny_config(tiny_data, steps=steps, ckpt_every=5, val_every=0, amp=amp, ema=ema)
    cfg_path.write_text(yaml.safe_dump(cfg))

    full = tmp_path / "full"
    subprocess.run(
        _cli(["--config", str(cfg_path), "--out", str(full)]),
        env=_env(),
        check=True,
        capture_output=True,
    )

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli(["--config", str(cfg_path), "--out", str(killed)]),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ckpt = killed / "checkpoint.safetensors"
    deadline = time.time() + 120
    while time.time() < deadline and not (ckpt.is_file() and _checkpoint_step(ckpt) >= 10):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    step_at_kill = _checkpoint_step(ckpt)
    assert 10 <= step_at_kill < steps, "the run was not killed mid-way"
    assert not (killed / "model.safetensors").exists()

    done = subprocess.run(
        _cli(["--config", str(cfg_path), "--out", str(killed), "--resume"]),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"resuming from {ckpt} at step {step_at_kill}" in done.stdout
    for name in ["model"] + ["ema"] * bool(ema):
        a = load_file(str(full / f"{name}.safetensors"))
        b = load_file(str(killed / f"{name}.safetensors"))
        assert a.keys() == b.keys()
        for key in a:
            assert np.allclose(a[key].numpy(), b[key].numpy(), atol=1e-6), (name, key)
    assert (full / "ema.safetensors").exists() == bool(ema)
    steps_logged = [int(r["step"]) for r in read_rows(killed / "metrics.csv")]
    assert steps_logged == list(range(1, steps + 1))  # no step twice, none missing


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(tiny_data, tmp_path):
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(tiny_config(tiny_data, steps=4, val_every=0, batch_size=4)))
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "wildmatte",
        "train",
        "--config",
        str(cfg_path),
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-3000:]
    assert "processes: 2 (gloo)" in done.stdout
    assert "replicas agree" in done.stdout
    assert (out / "model.safetensors").is_file()
    assert len(read_rows(out / "metrics.csv")) == 4


@pytest.mark.parametrize(
    "variant, key, value",
    [("abl-same-lr", "encoder_lr_ratio", 1.0), ("abl-frozen-bn", "freeze_bn", True)],
)
def test_encoder_ablations_change_one_thing_each(variant, key, value):
    base, changed = _differ_only_in("abl-imagenet", variant, key)
    assert changed[key] == value != base[key]


def test_scratch_ablation_changes_only_the_start():
    imagenet, scratch = config("abl-imagenet"), config("abl-scratch")
    assert imagenet.pop("init") == "imagenet" and scratch.pop("init") is None
    assert {**scratch, "name": imagenet["name"]} == imagenet
    assert imagenet["model"] == "prn-effl0"
