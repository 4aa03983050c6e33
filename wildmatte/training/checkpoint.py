"""Training checkpoints without pickles: every tensor in one safetensors file, the rest as JSON
in its metadata. Written atomically, so a kill at any moment leaves the last good checkpoint."""

from __future__ import annotations

import json
import os

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from wildmatte.files import atomic_write


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


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """`state`: any nesting of dicts/lists of tensors, numbers and strings."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = {k: _flatten(k, v, tensors) for k, v in state.items()}
    metadata = {"wildmatte_checkpoint": json.dumps(skeleton)}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def load_checkpoint(path: str | os.PathLike) -> dict:
    with safe_open(str(path), framework="pt", device="cpu") as f:
        skeleton = json.loads(f.metadata()["wildmatte_checkpoint"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return {k: _unflatten(v, tensors) for k, v in skeleton.items()}


def optimizer_state(optimizer: torch.optim.Optimizer) -> dict:
    sd = optimizer.state_dict()
    # JSON keys are strings: keep the integer parameter ids as a list of pairs.
    return {"state": [[k, v] for k, v in sd["state"].items()], "param_groups": sd["param_groups"]}


def restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    state = {int(k): v for k, v in saved["state"]}
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
