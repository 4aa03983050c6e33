"""Weights on disk: `<name>.safetensors` (tensors by name) beside `<name>.json` (the config)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from wildmatte.errors import InputError, first_line
from wildmatte.files import atomic_write, write_json
from wildmatte.model.config import PRNConfig
from wildmatte.model.prn import PRN


def weight_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(`.safetensors`, `.json`) for a path given with either suffix or none."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def save_model(model: PRN, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write the model's weights and config; returns the .safetensors path."""
    st_path, json_path = weight_paths(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write(st_path, lambda tmp: save_file(state, tmp))
    doc = {"architecture": "prn", "config": model.config.to_dict(), "meta": meta or {}}
    write_json(json_path, doc)
    return st_path


# What a released weight file's JSON says about it, beyond the architecture.
RELEASE_KEYS = ("tag", "sha256", "recipe", "licence")


def weights_info(path: str | os.PathLike) -> dict[str, str]:
    """The weight file and its release fields (tag, sha256, recipe, licence) from its `.json`;
    a run's own weights carry none of them."""
    st_path, json_path = weight_paths(path)
    try:
        meta = json.loads(json_path.read_text()).get("meta", {})
    except (OSError, ValueError) as err:
        raise InputError(json_path, f"cannot read the weights' config ({err})") from None
    return {"weights": str(st_path), **{k: str(meta[k]) for k in RELEASE_KEYS if k in meta}}


def read_config(json_path: Path) -> PRNConfig:
    """The checked model config of a weights file's JSON (bounded sizes, estimated memory)."""
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # UnicodeDecodeError and JSONDecodeError included
        raise InputError(json_path, f"not valid JSON ({first_line(err)})") from None
    if not isinstance(doc, dict) or "config" not in doc:
        raise InputError(json_path, "not a wildmatte weights config (no 'config' entry)")
    if doc.get("architecture", "prn") != "prn":
        raise InputError(json_path, f"unknown architecture {doc['architecture']!r}")
    try:
        return PRNConfig.from_dict(doc["config"])
    except (ValueError, TypeError) as err:
        raise InputError(json_path, first_line(err)) from None


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> PRN:
    """Build a PRN from `<name>.json` and load `<name>.safetensors` by name (strict).

    Every problem with the files is one InputError naming the file.
    """
    p = Path(path)
    if p.suffix not in ("", ".safetensors", ".json"):
        raise InputError(p, "weights must be .safetensors with a .json config beside them")
    st_path, json_path = weight_paths(p)
    for f in (st_path, json_path):
        if not f.is_file():
            raise InputError(f, "weights file not found")
    model = PRN(read_config(json_path))
    try:
        state = load_file(str(st_path), device="cpu")
    except Exception as err:  # safetensors raises its own SafetensorError for a bad file
        raise InputError(st_path, f"not a readable weights file ({first_line(err)})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        problem = lines[1] if len(lines) > 1 else first_line(err)
        problem = problem if len(problem) <= 160 else problem[:157] + "..."
        raise InputError(st_path, f"does not match {json_path.name} ({problem})") from None
    return model.to(device).eval()
