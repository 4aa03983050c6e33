"""Which part of a bf16 training step needs fp32? (issue 34)

One batch of training composites through a trained model (default: the bundled r9), three ways:
fp32; bf16 autocast with the alpha heads' interpolation and tanh in bf16 (the trainer before
issue 34); bf16 with them in fp32 (PRN._to_alpha now). For each bf16 way it prints, against fp32:
- alpha error where the target is background (α = 0), and inside the object's band (0 < α < 1);
- the share of pixels whose alpha gets no gradient in bf16 but does in fp32 (tanh saturated);
- the relative gradient error of the encoder, the decoder and the three heads.
The heads' tanh is what loses the background's gradient, the rest is rounding noise.

Usage: python experiments/bf16_heads.py [--weights W] [--batch 4] [--crop 320] [--config effl0]
"""

from __future__ import annotations

import argparse

import torch
from torch.nn import functional as F

from wildmatte.data.dataset import build_train_dataset
from wildmatte.inference.engines import DEFAULT_WEIGHTS
from wildmatte.model import PRN, load_model
from wildmatte.training.config import deep_merge, load_config
from wildmatte.training.losses import matting_loss
from wildmatte.training.trainer import TRAIN_DEFAULTS, Dist, _loader

GROUPS = {"encoder": ("encoder.",), "decoder": ("up",), "heads": ("head_",)}


def bf16_alpha(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """PRN._to_alpha as it was: under autocast it stays in bf16."""
    logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
    return (torch.tanh(logits) + 1.0) / 2.0


def run(model: PRN, batch: dict, tc: dict, bf16: bool) -> tuple[dict, dict, torch.Tensor]:
    """Fused alphas, per-group gradients, and d loss / d logits of the finest head."""
    model.zero_grad(set_to_none=True)
    logits = []

    def keep(module, inputs, output):
        output.retain_grad()
        logits.append(output)

    hook = model.head_os1.register_forward_hook(keep)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(batch["image"], batch["guidance"])
    hook.remove()
    fp = {k: v.float() for k, v in out.items()}
    loss, _ = matting_loss(fp, batch, tuple(tc["head_weights"]), tc["loss"], None)
    loss.backward()
    grads = {
        g: torch.cat([p.grad.flatten() for n, p in model.named_parameters() if n.startswith(pre)])
        for g, pre in GROUPS.items()
    }
    return {k: v.detach().float() for k, v in out.items()}, grads, logits[0].grad.float()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    ap.add_argument("--config", default="effl0", help="whose data and losses")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=320)
    args = ap.parse_args()

    cfg = load_config(args.config)
    cfg["data"]["crop_size"] = args.crop
    tc = deep_merge(TRAIN_DEFAULTS, cfg["train"])
    dataset = build_train_dataset(cfg["data"], seed=7)
    batch = next(iter(_loader(dataset, args.batch, Dist(), 0, 1, 0)))
    model = load_model(args.weights).train()

    ref_out, ref_grads, ref_da = run(model, batch, tc, bf16=False)
    gt = batch["alpha"]
    bg, edge = gt <= 0, (gt > 0) & (gt < 1)
    print(
        f"{args.weights}, {args.batch} composites at {args.crop}² ({args.config}'s data); "
        f"background {float(bg.float().mean()):.0%} of pixels"
    )
    print(
        "| bf16 with | α err, bg | α err, 0<α<1 | no gradient (fp32 has) | grad err enc / dec / heads |"
    )
    print("|---|---|---|---|---|")
    original = PRN.__dict__["_to_alpha"]  # the staticmethod itself
    for name, to_alpha in (("bf16 heads", staticmethod(bf16_alpha)), ("fp32 heads", None)):
        PRN._to_alpha = to_alpha or original
        try:
            out, grads, da = run(model, batch, tc, bf16=True)
        finally:
            PRN._to_alpha = original
        err = (out["alpha"] - ref_out["alpha"]).abs()
        lost = ((da == 0) & (ref_da != 0)).float().mean()
        rel = [
            float((grads[g] - ref_grads[g]).norm() / ref_grads[g].norm().clamp(min=1e-12))
            for g in GROUPS
        ]
        print(
            f"| {name} | {float(err[bg].mean()):.2e} | {float(err[edge].mean()):.2e} | "
            f"{float(lost):.1%} | {' / '.join(f'{r:.3f}' for r in rel)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
