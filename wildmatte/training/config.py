"""Training configs: YAML files, optionally `base:` another config and override parts of it.

The package ships the configs a user chooses from (`available_configs()`); experiments live in
any folder (this repository keeps its own in experiments/configs/) and are passed by path. A
`base:` names a file beside the including one (`NAME` or a relative `PATH.yaml`), else a
package config.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

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


def _resolve(name_or_path: str | Path, including: Path | None = None) -> Path:
    """The YAML file for a name or path; `including` is the file whose `base:` this is."""
    folder = including.parent if including else Path.cwd()
    ref = Path(name_or_path)
    if ref.suffix in (".yaml", ".yml"):
        path = ref if ref.is_absolute() else folder / ref
        if not path.is_file():
            raise InputError(including or path, f"config file {ref} not found")
        return path
    candidates = [folder / f"{ref}.yaml"] if including else []
    candidates.append(CONFIG_DIR / f"{ref}.yaml")
    for path in candidates:
        if path.is_file() and path.resolve() != (including and including.resolve()):
            return path
    known = ", ".join(available_configs())
    raise InputError(including or name_or_path, f"unknown config {ref}; known: {known}")


def _yaml_load(text: str):
    """yaml.safe_load, except that 3e-4 is a number: YAML 1.1 wants 3.0e-4 and would keep it a
    string, which the schema then refuses."""
    import yaml  # pyyaml is a [train] extra; listing the configs needs none

    class Loader(yaml.SafeLoader):
        pass

    exponent = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", exponent, list("-+0123456789."))
    return yaml.load(text, Loader=Loader)  # a SafeLoader: no arbitrary objects


def parse_value(text: str):
    """`--set` values are YAML scalars/lists: 20, 1e-3, true, [1, 2], a string."""
    return _yaml_load(text)


def set_dotted(cfg: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _load_file(path: Path) -> dict:
    """One file with its `base:` chain merged in (the file's own values win)."""
    import yaml  # pyyaml is a [train] extra; listing the configs needs none

    try:
        cfg = _yaml_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise InputError(path, f"invalid YAML ({str(err).splitlines()[0]})") from None
    if "base" in cfg:
        cfg = deep_merge(_load_file(_resolve(str(cfg.pop("base")), including=path)), cfg)
    return cfg


def load_config(name_or_path: str | Path, overrides: list[str] | None = None) -> dict:
    """Load a package config by name (wildmatte/training/configs/NAME.yaml) or any YAML file by
    path, then apply `key.sub=value` overrides."""
    from wildmatte.training.schema import check_config  # pydantic is a [train] extra too

    path = _resolve(name_or_path)
    cfg = _load_file(path)
    for item in overrides or []:
        if "=" not in item:
            raise InputError(item, "override must look like key.sub=value")
        key, value = item.split("=", 1)
        set_dotted(cfg, key.strip(), parse_value(value))
    check_config(cfg, path)
    return cfg
