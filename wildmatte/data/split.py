"""Deterministic train/validation split by file name."""

import hashlib


def _unit_hash(name: str) -> float:
    digest = hashlib.md5(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def train_val_split(names: list[str], val_fraction: float = 0.12) -> tuple[list[str], list[str]]:
    """Split names into (train, val) by a hash of each name.

    A name's side depends only on the name, so adding files never moves existing ones. Sets
    of two or more names always get at least one name on each side when 0 < val_fraction < 1;
    a single name trains (validating on a set with nothing to train on says nothing).
    """
    by_hash = sorted(names, key=_unit_hash)
    val = {n for n in names if _unit_hash(n) < val_fraction}
    if len(names) == 1 and val_fraction < 1:
        val = set()
    elif len(names) >= 2 and 0 < val_fraction < 1:
        if not val:
            val = {by_hash[0]}
        if len(val) == len(names):
            val.discard(by_hash[-1])
    return [n for n in names if n not in val], [n for n in names if n in val]


def select(names: list[str], split: str, val_fraction: float) -> list[str]:
    """The names of one split: "train", "val" or "all"."""
    if split == "all":
        return list(names)
    train, val = train_val_split(names, val_fraction)
    if split == "train":
        return train
    if split == "val":
        return val
    raise ValueError(f"unknown split {split!r}: expected 'train', 'val' or 'all'")
