"""Mixed precision in training: bf16 where native, the fp32 fallback, and fp32 alpha heads."""

import numpy as np
import pytest
import torch
from test_training import read_rows, tiny_config

from wildmatte.model import PRN
from wildmatte.training import precision, trainer
from wildmatte.training.precision import BF16, FP32, choose_precision

CPU = torch.device("cpu")


def test_auto_takes_bf16_only_where_native(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    assert choose_precision(True, CPU) == (BF16, None)
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    chosen, why = choose_precision(True, CPU)
    assert chosen == FP32 and why == "bf16: cpu has no native bf16 units here; training in fp32"
    assert choose_precision("bf16", CPU) == (BF16, None)  # forced: runs emulated
    assert choose_precision(False, CPU) == (FP32, None)
    assert choose_precision("fp32", CPU) == (FP32, None)


def test_native_bf16_reads_the_cpu_probes(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not precision.native_bf16(CPU)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert precision.native_bf16(CPU)


def test_alpha_heads_stay_fp32_and_keep_their_gradient_under_bf16():
    model = PRN("prn-tiny").train()
    image, guidance = torch.rand(1, 3, 64, 64), torch.ones(1, 1, 64, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(image, guidance)
    assert {v.dtype for v in out.values()} == {torch.float32}

    # A confident background logit: in bf16, tanh(-4) rounds to -1 and its gradient is lost.
    logits = torch.full((1, 1, 4, 4), -4.0, dtype=torch.bfloat16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        PRN._to_alpha(logits, (8, 8)).sum().backward()
    assert float(logits.grad.abs().min()) > 0
    lost = logits.detach().clone().requires_grad_()
    ((torch.tanh(lost) + 1) / 2).sum().backward()
    assert float(lost.grad.abs().max()) == 0  # what the heads would do in bf16


@pytest.mark.slow
def test_bf16_run_lowers_the_loss(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    trainer.train(tiny_config(tiny_data, amp="bf16", val_every=0), out)
    assert "precision: bf16" in capsys.readouterr().out
    losses = [float(r["loss"]) for r in read_rows(out / "metrics.csv")]
    assert len(losses) == 20 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


@pytest.mark.slow
def test_no_native_bf16_trains_in_fp32_and_says_so(tiny_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    cfg = tiny_config(tiny_data, steps=3, val_every=0)
    trainer.train(cfg, tmp_path / "run")
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("bf16: cpu has no native bf16 units here; training in fp32") == 1
    # The same three steps with amp off give the same weights: nothing ran in bf16.
    fp32 = tiny_config(tiny_data, steps=3, val_every=0, amp=False)
    a = trainer.train(cfg, tmp_path / "a")
    b = trainer.train(fp32, tmp_path / "b")
    from safetensors.torch import load_file

    wa, wb = load_file(str(a)), load_file(str(b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
