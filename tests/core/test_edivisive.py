"""ducttape's E-Divisive finds the change points signal-processing-algorithms found before it.

``edivisive_recorded.json`` holds 111 series with the change points signal-processing-algorithms
2.1.6 (numpy 1.26.4) found in them when history.py still used it: figures of real sample_latency
sessions (one and two slowdowns), the synthetic series of test_history.py, steps of 1% to 100%
in noise, noise only, three change points, 6 to 9 point series, constant series and plain
steps, integers, drift, an outlier, tiny and huge magnitudes, 120 points. Both the candidates
E-Divisive proposes and the change points ``history.change_points`` keeps of them must come out
the same.

The same, not merely close: the permutation test draws its shuffles from ``RandomState(SEED)``
in the order the library drew them from the seeded global state, and the statistic adds its
sums in the library's order, so even exact ties (a 6-point series has 1 chance in 20 that a
shuffle reproduces the observed split) are decided as before.
"""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest

from ducttape.runner.edivisive import e_divisive, split_statistics
from ducttape.runner.history import (CANDIDATE_PVALUE, CHANGE_PERMUTATIONS, SEED, Point, Series,
                                     change_points)

RECORDED = os.path.join(os.path.dirname(__file__), "edivisive_recorded.json")


@pytest.fixture(scope="module")
def recorded():
    with open(RECORDED) as f:
        series = json.load(f)["series"]
    # the record is what it claims: real and synthetic series, none, one and several changes
    assert len(series) == 111 and sum(s["origin"] == "real" for s in series) == 4
    assert {len(s["change_points"]) for s in series} == {0, 1, 2, 3}
    assert min(len(s["values"]) for s in series) == 6 and max(len(s["values"]) for s in series) == 120
    return series


def test_the_candidates_are_the_recorded_ones(recorded):
    differ = []
    for s in recorded:
        found = e_divisive(s["values"], CANDIDATE_PVALUE, CHANGE_PERMUTATIONS, SEED)
        if found != s["e_divisive"]:
            differ.append((s["name"], s["e_divisive"], found))
    assert differ == []


def test_history_keeps_the_recorded_change_points(recorded):
    differ = []
    for s in recorded:
        series = Series("t::T.test", "f", "ms", "lower",
                        [Point(f"s{i}", i, "", {}, v, [v]) for i, v in enumerate(s["values"])])
        found = [cp.index for cp in change_points(series)]
        if found != s["change_points"]:
            differ.append((s["name"], s["change_points"], found))
    assert differ == []


def test_the_statistic_is_the_energy_distance_of_each_split():
    rng = random.Random(5)
    for n in (2, 3, 10, 31):
        x = np.array([rng.gauss(0, 1) for _ in range(n)])
        got = split_statistics(np.abs(x[:, None] - x[None, :])[None])[0]
        expected = [0.0]
        for t in range(1, n):
            left, right = x[:t], x[t:]
            between = np.abs(left[:, None] - right[None, :]).mean()
            within_left = np.abs(left[:, None] - left[None, :]).mean()
            within_right = np.abs(right[:, None] - right[None, :]).mean()
            expected.append(t * (n - t) / n * (2 * between - within_left - within_right))
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), n


def test_the_seed_decides_only_the_shuffles():
    rng = random.Random(11)
    values = [100 + rng.uniform(-5, 5) + (6 if i >= 10 else 0) for i in range(20)]
    assert e_divisive(values, seed=1) == e_divisive(values, seed=1)
    # a clear step is found whatever the seed; without one, nothing is
    assert all(e_divisive([v + (50 if i >= 10 else 0) for i, v in enumerate(values)], seed=s) == [10]
               for s in range(5))
    assert all(e_divisive(values[:10], seed=s) == [] for s in range(5))


def test_values_that_are_not_finite_numbers_are_refused():
    with pytest.raises(ValueError, match="finite numbers"):
        e_divisive([1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="finite numbers"):
        e_divisive([[1.0, 2.0], [3.0, 4.0]])
