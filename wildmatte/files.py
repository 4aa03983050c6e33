"""Atomic output files: written to a temp file in the same folder, then renamed into place.

A crash or Ctrl-C never leaves a half-written file behind, so a file that exists is complete
(which keeps resumable runs honest). A SIGKILL mid-write can leave the temp file; the next write
of the same output removes it (temp files older than this process cannot be in use by it).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_STARTED = time.time()


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}."


def clean_stale_tmp(path: str | os.PathLike, suffix: str = ".tmp") -> list[Path]:
    """Remove temp files of `path` (`.NAME.*SUFFIX`) left by an earlier, killed process;
    returns what went."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f"{_tmp_prefix(path)}*{suffix}"):
        try:
            if tmp.stat().st_mtime < _STARTED:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # another process removed or replaced it meanwhile
            continue
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call `write(tmp_path)`, then move the temp file to `path` (mode 644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_prefix(path), suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, doc: object) -> Path:
    return write_text(path, json.dumps(doc, indent=2) + "\n")
