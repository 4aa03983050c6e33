"""Validation during training: mean SAD, MSE, SAD_FG, SAD_BG of the fused alpha."""

from __future__ import annotations

import numpy as np
import torch

from wildmatte.evaluation.metrics import mse, sad, sad_bg, sad_fg


@torch.no_grad()
def validate(model: torch.nn.Module, samples: list[dict], device: torch.device) -> dict[str, float]:
    model.eval()
    scores: dict[str, list[float]] = {"SAD": [], "MSE": [], "SAD_FG": [], "SAD_BG": []}
    for s in samples:
        image = s["image"].unsqueeze(0).to(device)
        guidance = s["guidance"].unsqueeze(0).to(device)
        pred = model(image, guidance)["alpha"][0, 0].float().cpu().numpy()
        pred = np.rint(pred * 255) / 255  # scored as the 8-bit PNG the tool writes
        gt = s["alpha"][0].numpy()
        for name, fn in (("SAD", sad), ("MSE", mse), ("SAD_FG", sad_fg), ("SAD_BG", sad_bg)):
            scores[name].append(float(fn(pred, gt)))
    return {k: float(np.mean(v)) for k, v in scores.items()}
