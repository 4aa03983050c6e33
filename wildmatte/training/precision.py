"""Mixed precision for training: bf16 autocast where the device computes bf16 natively.

On a CPU without native bf16 (no AVX512-BF16 or AMX), oneDNN emulates it and a step is several
times slower than fp32 (measured 7x on an AMD EPYC Zen 3), so `auto` falls back to fp32 there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

BF16, FP32 = "bf16", "fp32"


def native_bf16(device: torch.device) -> bool:
    """Whether `device` runs bf16 convolutions in hardware."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    # Private but stable probes (torch/cpu/__init__.py); a torch without them is treated as fp32.
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def choose_precision(amp: bool | str, device: torch.device) -> tuple[str, str | None]:
    """The precision to train in, and one line to print when bf16 was wanted but is not there.

    `amp`: true or "auto" (bf16 where native), "bf16" (forced, even emulated), false or "fp32".
    """
    if amp in (False, FP32, "false", "off"):
        return FP32, None
    if amp == BF16:
        return BF16, None
    if native_bf16(device):
        return BF16, None
    return FP32, f"bf16: {device.type} has no native bf16 units here; training in fp32"


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    return torch.autocast(device.type, dtype=torch.bfloat16) if precision == BF16 else nullcontext()
