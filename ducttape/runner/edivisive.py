"""E-Divisive means: where a series of measurements changes level, found by energy statistics.

The method is Matteson and James's (2014) with the distance ``|x - y|``, as MongoDB and Apache
Otava use it: the split of a window that maximises the energy test statistic is a candidate;
a permutation test (the window's points shuffled ``permutations`` times) keeps it when at most a
fraction ``pvalue`` of the shuffles split as well; each kept change point divides its window and
the search goes on in the pieces until no candidate passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MAX_BATCH_CELLS = 4_000_000
"""Permuted distance matrices are scored in batches of at most this many cells (32 MB)."""


def e_divisive(values: Sequence[float], pvalue: float = 0.05, permutations: int = 199,
               seed: int = 1234) -> list[int]:
    """The change points of ``values`` (finite numbers, oldest first), ascending.

    A change point is the index of the first value after a change. A candidate is kept when the
    share of ``permutations`` shuffles that split at least as strongly, counted over
    ``permutations + 1``, is at most ``pvalue``. The shuffles come from numpy's legacy
    ``RandomState(seed)``, whose stream numpy keeps fixed across releases, so the same series and
    seed give the same change points everywhere; the sums are added in a fixed order, so a
    shuffle that reproduces the observed split ties with it the same way each time.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or not np.isfinite(x).all():
        raise ValueError("e_divisive takes a flat sequence of finite numbers")
    distances = np.abs(x[:, None] - x[None, :])
    rng = np.random.RandomState(seed)
    found: list[int] = []
    best_split: dict[tuple[int, int], tuple[int, float]] = {}
    while True:
        bounds = [0, *sorted(found), len(x)]
        windows = list(zip(bounds, bounds[1:]))
        for a, b in windows:
            if (a, b) not in best_split:
                stats = split_statistics(distances[a:b, a:b][None])[0]
                tau = int(np.argmax(stats))
                best_split[(a, b)] = (a + tau, float(stats[tau]))
        index, strength = max((best_split[w] for w in windows), key=lambda split: split[1])
        if _shuffled_at_least(distances, windows, strength, permutations, rng) / (permutations + 1) > pvalue:
            return sorted(found)
        found.append(index)


def _shuffled_at_least(distances: np.ndarray, windows: list[tuple[int, int]], strength: float,
                       permutations: int, rng: np.random.RandomState) -> int:
    """How many of ``permutations`` shuffles (each window's points shuffled within the window)
    have a split in some window at least as strong as ``strength``."""
    orders = [[a + rng.permutation(b - a) for a, b in windows] for _ in range(permutations)]
    strongest = np.full(permutations, -np.inf)
    for w, (a, b) in enumerate(windows):
        batch = max(1, _MAX_BATCH_CELLS // (b - a) ** 2)
        for start in range(0, permutations, batch):
            rows = np.array([order[w] for order in orders[start:start + batch]])
            shuffled = distances[rows[:, :, None], rows[:, None, :]]
            window_best = split_statistics(shuffled).max(axis=1)
            strongest[start:start + batch] = np.maximum(strongest[start:start + batch], window_best)
    return int((strongest >= strength).sum())


def split_statistics(distances: np.ndarray) -> np.ndarray:
    """The energy test statistic of every split of a window, for a stack of distance matrices.

    ``distances`` has shape ``(k, n, n)``; entry ``[k, tau]`` of the result scores splitting the
    ``k``-th window into its first ``tau`` points and the rest (``tau = 0`` scores 0):
    ``q = t(n - t)/n * (2 mean|X - Y| - mean|X - X'| - mean|Y - Y'|)``. Each sum is built up
    point by point from the left, the order signal-processing-algorithms added them in, so that
    ties come out as they did (tests/core/test_edivisive.py).
    """
    n = distances.shape[-1]
    into_left = np.cumsum(np.triu(distances, 1), axis=-2)[..., -1, :]  # sum_{i<tau} d[i, tau]
    to_right = np.cumsum(np.triu(distances), axis=-1)[..., :, -1]      # sum_{j>=tau} d[tau, j]
    zeros = np.zeros(distances.shape[:-2] + (1,))
    left = np.cumsum(np.concatenate([zeros, into_left[..., :-1]], axis=-1), axis=-1)
    total = np.cumsum(to_right, axis=-1)[..., -1:]
    right = np.cumsum(np.concatenate([total, -to_right[..., :-1]], axis=-1), axis=-1)
    # moving point tau from the right to the left takes its distances to the left out of the
    # cross sum and puts its distances to the right in: interleave the two and keep every second
    steps = np.stack([-into_left, to_right], axis=-1).reshape(distances.shape[:-2] + (2 * n,))
    cross = np.concatenate([zeros, np.cumsum(steps, axis=-1)[..., 1:-1:2]], axis=-1)
    t = np.arange(n, dtype=np.float64)
    u = n - t
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_mean = np.where(t > 0, cross * (2.0 / (t * u)), 0.0)
        left_mean = np.where(t > 0, 2 * left / (t * t), 0.0)
    right_mean = 2 * right / (u * u)
    return t * u / (t + u) * (cross_mean - left_mean - right_mean)
