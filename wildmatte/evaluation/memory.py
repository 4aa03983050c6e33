"""Peak memory of a block of work, above what the process held when the block began.

CPU: Linux keeps a process's resident-set high-water mark (VmHWM in /proc/self/status); writing
"5" to /proc/self/clear_refs resets it to the current RSS, so a block's peak is VmHWM at its end
minus VmRSS at its start. Where the reset is not possible the lifetime peak from getrusage
(ru_maxrss) is used instead and `method` says so: then the figure can include earlier work.
CUDA: torch.cuda.max_memory_allocated after reset_peak_memory_stats (tensors only, not the
allocator's cache or the CUDA context).
"""

from __future__ import annotations

import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    try:
        _CLEAR.write_text("5")
        return True
    except OSError:
        return False


def rss_mib() -> float:
    """The current resident set size (0 where /proc is unavailable)."""
    return (_status_kib("VmRSS") or 0) / 1024


class PeakMemory:
    """with PeakMemory() as m: ...; then m.mib (peak above the start) and m.method."""

    def __init__(self, device: str = "cpu") -> None:
        self.cuda = str(device).startswith("cuda")
        self.mib = 0.0
        self.method = ""

    def __enter__(self) -> PeakMemory:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._start = torch.cuda.memory_allocated()
            self.method = "torch.cuda.max_memory_allocated"
        else:
            self._start = _status_kib("VmRSS")
            if self._start is not None and _reset_hwm():
                self.method = "VmHWM after /proc/self/clear_refs reset"
            else:
                self._start = 0
                self.method = "ru_maxrss (lifetime peak of the process)"
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            self.mib = (torch.cuda.max_memory_allocated() - self._start) / 2**20
        elif self.method.startswith("VmHWM"):
            self.mib = ((_status_kib("VmHWM") or 0) - self._start) / 1024
        else:
            self.mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
