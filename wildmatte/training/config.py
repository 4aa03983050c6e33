"""Training configs: YAML files, optionally `base:` another config and override parts of it."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from wildmatte.errors import InputError

CONFIG_DIR = Path(__file__).parent / "configs"


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _resolve(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise InputError(path, "config file not found")
        return path
    path = CONFIG_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise InputError(name_or_path, f"unknown config; known: {', '.join(available_configs())}")
    return path


def parse_value(text: str):
    """`--set` values are YAML scalars/lists: 20, 1e-3, true, [1, 2], a string."""
    return yaml.safe_load(text)


def set_dotted(cfg: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def load_config(name_or_path: str, overrides: list[str] | None = None) -> dict:
    """Load a config by name (wildmatte/training/configs/NAME.yaml) or path, then apply
    `key.sub=value` overrides."""
    path = _resolve(name_or_path)
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise InputError(path, f"invalid YAML ({str(err).splitlines()[0]})") from None
    if "base" in cfg:
        cfg = deep_merge(load_config(cfg.pop("base")), cfg)
    for item in overrides or []:
        if "=" not in item:
            raise InputError(item, "override must look like key.sub=value")
        key, value = item.split("=", 1)
        set_dotted(cfg, key.strip(), parse_value(value))
    return cfg
