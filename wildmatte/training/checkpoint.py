"""Training checkpoints without pickles: every tensor in one safetensors file, the rest as JSON
in its metadata. Written atomically, so a kill at any moment leaves the last good checkpoint.

A SHA-256 of the skeleton and every tensor's bytes travels in the metadata; loading verifies it,
so a corrupted file (a flipped bit on disk, a partial copy) is one InputError, not a silently
different run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from wildmatte.errors import InputError, first_line
from wildmatte.files import atomic_write

META_KEY = "wildmatte_checkpoint"
SUM_KEY = "wildmatte_sha256"


def _flatten(prefix: str, obj, tensors: dict):
    """Split a nested state dict into named tensors and a JSON skeleton that points at them."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[k, _flatten(f"{prefix}.{k}", v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__list__": [_flatten(f"{prefix}.{i}", v, tensors) for i, v in enumerate(obj)]}
    return obj


def _unflatten(node, tensors: dict):
    if isinstance(node, dict) and "__tensor__" in node:
        return tensors[node["__tensor__"]]
    if isinstance(node, dict) and "__dict__" in node:
        return {k: _unflatten(v, tensors) for k, v in node["__dict__"]}
    if isinstance(node, dict) and "__list__" in node:
        return [_unflatten(v, tensors) for v in node["__list__"]]
    return node


def checksum(skeleton_json: str, tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the skeleton, then of each tensor's name, dtype, shape and bytes, by name."""
    h = hashlib.sha256(skeleton_json.encode("utf-8"))
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"\n{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """`state`: any nesting of dicts/lists of tensors, numbers and strings."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = json.dumps({k: _flatten(k, v, tensors) for k, v in state.items()})
    meta = {META_KEY: skeleton, SUM_KEY: checksum(skeleton, tensors)}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The saved state; one InputError for a missing, unreadable or corrupted file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:  # safetensors' own SafetensorError for a truncated or garbage file
        raise InputError(path, f"not a readable checkpoint ({first_line(err)})") from None
    if META_KEY not in meta:
        raise InputError(path, "not a wildmatte checkpoint (no training state in it)")
    expected = meta.get(SUM_KEY)
    if expected is None:
        print(
            f"wildmatte: warning: {path}: no checksum (an older checkpoint): not verified",
            file=sys.stderr,
        )
    elif checksum(meta[META_KEY], tensors) != expected:
        raise InputError(
            path,
            "checksum mismatch: the checkpoint is corrupted (start afresh, or restore a good copy)",
        )
    try:
        skeleton = json.loads(meta[META_KEY])
        return {k: _unflatten(v, tensors) for k, v in skeleton.items()}
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(path, f"corrupted training state ({first_line(err)})") from None


def optimizer_state(optimizer: torch.optim.Optimizer) -> dict:
    sd = optimizer.state_dict()
    # JSON keys are strings: keep the integer parameter ids as a list of pairs.
    return {"state": [[k, v] for k, v in sd["state"].items()], "param_groups": sd["param_groups"]}


def restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    state = {int(k): v for k, v in saved["state"]}
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
