import numpy as np
import pytest

from wildmatte.evaluation.stats import paired_bootstrap


def test_a_consistent_gap_has_an_interval_away_from_zero():
    rng = np.random.default_rng(1)
    hard = rng.uniform(1, 20, 50)  # shared per-case difficulty, much larger than the gap
    a = {f"c{i}": h + 0.5 + rng.normal(0, 0.1) for i, h in enumerate(hard)}
    b = {f"c{i}": h for i, h in enumerate(hard)}
    mean, lo, hi = paired_bootstrap(a, b)
    assert 0.45 < mean < 0.55 and 0 < lo < mean < hi


def test_noise_alone_gives_an_interval_around_zero():
    rng = np.random.default_rng(2)
    a = {f"c{i}": v for i, v in enumerate(rng.normal(5, 1, 40))}
    b = {f"c{i}": v for i, v in enumerate(rng.normal(5, 1, 40))}
    _, lo, hi = paired_bootstrap(a, b)
    assert lo < 0 < hi


def test_only_common_cases_count_and_none_is_an_error():
    mean, lo, hi = paired_bootstrap({"x": 3.0, "y": 1.0}, {"x": 1.0})
    assert mean == lo == hi == 2.0
    with pytest.raises(ValueError, match="no case"):
        paired_bootstrap({"x": 1.0}, {"y": 1.0})
