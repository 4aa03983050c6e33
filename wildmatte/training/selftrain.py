"""Stage 2 on natural images with instance masks: self-training, or the segmentation baseline.

self-training (the paper): an EMA teacher predicts alpha on the weak view (geometry only, the
instance mask as guidance); its fused alpha is the pseudo label for the student on the strong
view (same geometry, perturbed pixels and guidance). L1 is applied to every head (1/8, 1/4,
1/1, weighted like stage 1): the teacher's fused alpha is its best estimate everywhere, and
each head of the student should agree with it, as each head agrees with the ground truth in
stage 1. `heads: fused` trains the fused output only.

segmentation (baseline): no teacher; the strongly augmented mask is the guidance and an
extra head (`seg_head: true` in the model) is trained with BCE on the binary instance mask.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

MODES = ("self-training", "segmentation")
HEADS = ("alpha_os8", "alpha_os4", "alpha_os1")


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model


class EMATeacher:
    """A frozen copy of the student that follows it by θ_t ← m·θ_t + (1 − m)·θ_s after each
    student step (torch's AveragedModel with an EMA); BatchNorm statistics, which gradients do
    not learn, are the student's."""

    def __init__(self, model: nn.Module, ema: float = 0.999) -> None:
        if not 0.0 <= float(ema) <= 1.0:
            raise ValueError(f"EMA momentum must lie in [0, 1], got {ema}")
        self.ema = float(ema)
        # use_buffers=False: parameters are averaged, buffers copied from the student.
        self.averaged = AveragedModel(_unwrap(model), multi_avg_fn=get_ema_multi_avg_fn(self.ema))
        # The copy made here counts as the first average, so the first update moves it by the
        # EMA instead of replacing it with the student.
        self.averaged.n_averaged.fill_(1)
        self.model = self.averaged.module.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, student: nn.Module) -> None:
        self.averaged.update_parameters(_unwrap(student))

    @torch.no_grad()
    def __call__(self, image: torch.Tensor, guidance: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.model(image, guidance)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)


def self_training_loss(
    net: nn.Module, teacher: EMATeacher, batch: dict, st: dict
) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 between the student's alphas on the strong view and the teacher's on the weak view."""
    pseudo = teacher(batch["image_weak"], batch["guidance_weak"])["alpha"].float()
    out = net(batch["image_strong"], batch["guidance_strong"])
    if st.get("heads", "all") == "fused":
        heads, weights = ("alpha",), (1.0,)
    else:
        heads, weights = HEADS, st.get("head_weights", [1.0, 1.0, 2.0])
    errors = [(out[h].float() - pseudo).abs().mean() for h in heads]
    loss = sum(w * e for w, e in zip(weights, errors))
    logs = {f"l1_nat_{h[6:] or 'fused'}": float(e.detach()) for h, e in zip(heads, errors)}
    soft = ((pseudo > 0.05) & (pseudo < 0.95)).float().mean()
    logs.update(
        loss_nat=float(loss.detach()), pseudo_mean=float(pseudo.mean()), pseudo_soft=float(soft)
    )
    return loss, logs


def segmentation_loss(net: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """BCE of the segmentation head on the binary instance mask, guided by the perturbed mask."""
    out = net(batch["image_strong"], batch["guidance_strong"])
    if "seg_logits" not in out:
        raise ValueError("selftrain mode 'segmentation' needs a model with seg_head: true")
    logits, target = out["seg_logits"].float(), batch["mask"]
    loss = F.binary_cross_entropy_with_logits(logits, target)
    with torch.no_grad():
        pred = logits > 0
        inter = (pred & (target > 0.5)).sum()
        union = (pred | (target > 0.5)).sum().clamp(min=1)
    return loss, {"loss_nat": float(loss.detach()), "seg_iou": float(inter / union)}


def stage2_loss(
    net: nn.Module, teacher: EMATeacher | None, batch: dict, st: dict
) -> tuple[torch.Tensor, dict[str, float]]:
    """The natural-image loss of one weak batch, by `selftrain.mode`."""
    mode = st.get("mode", "self-training")
    if mode == "segmentation":
        return segmentation_loss(net, batch)
    if mode != "self-training":
        raise ValueError(f"unknown selftrain mode {mode!r}: expected one of {', '.join(MODES)}")
    if teacher is None:
        raise ValueError("self-training needs an EMA teacher")
    return self_training_loss(net, teacher, batch, st)
