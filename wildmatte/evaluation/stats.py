"""Is one engine really better than another on the same cases? A paired bootstrap answers."""

from __future__ import annotations

import numpy as np


def paired_bootstrap(
    a: dict[str, float], b: dict[str, float], n_boot: int = 10000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of a − b over the cases both have, and its 95% bootstrap interval (lo, hi).

    Resampling the per-case differences, not the two means separately: the same hard cases are
    hard for every engine, and pairing removes that shared variance.
    """
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ValueError("no case is scored in both")
    diff = np.array([a[k] - b[k] for k in keys], dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(len(diff), size=(n_boot, len(diff)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(lo), float(hi)
