"""pymatting, the classic engines' library, imported in one place.

Its numba kernels compile as it is imported: about a minute the first time, then read from
numba's cache. That minute is announced, so a first `--engine classic` does not look hung.
Importing it also resets torch's thread count, which is put back."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType


def kernels_cached(package: Path, cache_dir: str | None = None) -> bool:
    """Whether numba has cached kernels of `package` (beside its modules, or under
    NUMBA_CACHE_DIR when that is set)."""
    root = Path(cache_dir) if cache_dir else package
    return root.is_dir() and any(p.suffix == ".nbi" for p in root.rglob("*.nbi"))


def load_pymatting() -> ModuleType:
    """The pymatting module; says so on stderr when its kernels are about to compile."""
    if "pymatting" in sys.modules:
        return sys.modules["pymatting"]
    import torch

    spec = importlib.util.find_spec("pymatting")
    if spec is not None and spec.origin is not None:
        if not kernels_cached(Path(spec.origin).parent, os.environ.get("NUMBA_CACHE_DIR")):
            print(
                "wildmatte: compiling closed-form matting's kernels (first use only, about a "
                "minute)",
                file=sys.stderr,
            )
    threads = torch.get_num_threads()
    import pymatting

    torch.set_num_threads(threads)
    return pymatting
