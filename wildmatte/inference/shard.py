"""Split a sorted job list into N disjoint slices, so N machines can share a folder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from wildmatte.errors import InputError

T = TypeVar("T")


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 0 <= K < N (K counts from 0, like Slurm array and Kubernetes job indices)."""
    k, sep, n = text.partition("/")
    try:
        if not sep:
            raise ValueError
        index, count = int(k), int(n)
    except ValueError:
        raise InputError("--shard", f"{text!r} is not K/N (e.g. 0/4)") from None
    if count < 1 or not 0 <= index < count:
        raise InputError("--shard", f"{text!r}: need 0 <= K < N")
    return index, count


def take_shard(items: Sequence[T], index: int, count: int) -> list[T]:
    """The index-th of `count` contiguous slices, sizes differing by at most one."""
    n = len(items)
    return list(items[index * n // count : (index + 1) * n // count])
