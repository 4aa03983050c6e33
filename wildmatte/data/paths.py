"""Where the data lives: a root folder and a `{data}` placeholder for config paths."""

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """$WILDMATTE_DATA if set, else the shared data folder beside the repository."""
    env = os.environ.get("WILDMATTE_DATA")
    if env:
        return Path(env).expanduser()
    return _REPO_ROOT.parent / "shared" / "data"


def expand(path: str | os.PathLike) -> Path:
    """A config path with `{data}` replaced by data_root() and `~` expanded."""
    return Path(str(path).replace("{data}", str(data_root()))).expanduser()
