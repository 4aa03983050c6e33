"""Is one engine really better than another on the same cases? A paired bootstrap answers."""

from __future__ import annotations

import numpy as np
from scipy.stats import bootstrap


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a - b, axis=axis)


def paired_bootstrap(
    a: dict[str, float], b: dict[str, float], n_boot: int = 10000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of a − b over the cases both have, and its 95% bootstrap interval (lo, hi).

    Resampling the cases in pairs (scipy's `paired=True`), not the two means separately: the
    same hard cases are hard for every engine, and pairing removes that shared variance.
    """
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ValueError("no case is scored in both")
    x = np.array([a[k] for k in keys], dtype=np.float64)
    y = np.array([b[k] for k in keys], dtype=np.float64)
    mean = float(_mean_difference(x, y))
    if len(keys) == 1:  # nothing to resample (scipy needs two cases): the interval is the point
        return mean, mean, mean
    result = bootstrap(
        (x, y),
        _mean_difference,
        paired=True,
        vectorized=True,
        n_resamples=n_boot,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return mean, float(interval.low), float(interval.high)
