"""ducttape.runner.stability against synthetic services whose answer is known: a fixed delay (with
the jitter of a timer), one with injected noise, a machine that drifts, a sink of known capacity."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest

from ducttape.runner.stability import (Target, estimate, highest_sustainable_rate, median_interval,
                                       repeat_until_stable, sustainable_searches)

DELAY_MS = 200.0


def coverage(n: int, k: int) -> float:
    """The exact chance that (x_(k), x_(n+1-k)) of n values covers the median, by counting."""
    return sum(math.comb(n, j) for j in range(k, n - k + 1)) / 2 ** n


def test_median_interval_is_the_widest_order_statistics_pair_that_reaches_the_confidence():
    assert median_interval([3, 1, 2, 5, 4], 0.95) is None, "(min, max) of 5 covers 93.75%"
    assert median_interval(range(6), 0.95) == (0, 5) and coverage(6, 1) == pytest.approx(0.96875)
    assert median_interval(range(6), 0.975) is None
    for n in (7, 9, 20, 51):
        low, high = median_interval(range(n), 0.95)
        k = low + 1
        assert high == n - k and coverage(n, k) >= 0.95 > coverage(n, k + 1)
    assert median_interval([], 0.95) is None


class Synthetic:
    """A service whose latency per request is known: ``DELAY_MS`` times a noise factor whose
    median is 1 (none: the jitter of a 0.1 ms timer only); one run is the median of 5 requests,
    whose median is the service's median."""

    def __init__(self, seed: int, noise: str):
        self.rng = random.Random(seed)
        self.noise = noise

    def request(self) -> float:
        if self.noise == "none":
            return DELAY_MS + self.rng.uniform(0, 0.1) - 0.05
        if self.noise == "lognormal":
            return DELAY_MS * self.rng.lognormvariate(0, 0.1)
        # a skewed tail: exponential noise around the delay, shifted so that its median is 0
        return DELAY_MS + 20 * (self.rng.expovariate(1) - math.log(2))

    def run_round(self, order: list) -> list[dict]:
        return [{"latency_ms": statistics.median(self.request() for _ in range(5))} for _ in order]


@pytest.mark.parametrize("noise", ["none", "lognormal", "skewed"])
def test_the_known_median_is_inside_the_interval_in_at_least_19_of_20_loops(noise):
    target = Target(budget_s=1e9)
    inside, repeats = 0, []
    for seed in range(20):
        found = repeat_until_stable(["sink"], Synthetic(seed, noise).run_round, lambda case: ["latency_ms"],
                                    target, seed=seed)
        est = found.estimate("sink", "latency_ms", target)
        inside += est.low <= DELAY_MS <= est.high
        repeats.append(len(est.values))
        assert est.stable and est.high - est.low <= 2 * 0.05 * est.median * 1.0001
    assert inside >= 19, f"{noise}: {inside} of 20"
    assert min(repeats) >= target.min_repeats
    if noise != "none":
        assert max(repeats) > target.min_repeats, "noise takes more repeats than the first round"


def test_over_many_loops_the_interval_covers_the_median_at_least_95_percent_of_the_time():
    target, inside = Target(budget_s=1e9), 0
    for seed in range(400):
        found = repeat_until_stable(["sink"], Synthetic(seed, "lognormal").run_round,
                                    lambda case: ["latency_ms"], target, seed=seed)
        est = found.estimate("sink", "latency_ms", target)
        inside += est.low <= DELAY_MS <= est.high
    assert inside >= 0.95 * 400, inside


def test_rounds_are_shuffled_with_the_recorded_seed_so_drift_falls_on_every_case_alike():
    """Two identical cases on a machine that slows down by 1% per run: run one after the other
    their medians differ by the drift; interleaved in a shuffled order they agree."""
    def drifting(order):
        return [{"ms": 100 * (1 + 0.01 * next(clock))} for _ in order]

    clock = itertools.count()
    target = Target(budget_s=1e9, width_pct=100)
    found = repeat_until_stable(["a", "b"], drifting, lambda c: ["ms"], target, seed=7)
    ran = [case for block in found.rounds for case in block]
    assert [len(r) for r in found.rounds] == [14], "seven blocks"
    assert all(sorted(ran[i:i + 2]) == ["a", "b"] for i in range(0, 14, 2)), "each block runs both once"
    assert "ab" in "".join(ran) and "ba" in "".join(ran) and found.seed == 7, "in shuffled orders"
    again = repeat_until_stable(["a", "b"], drifting, lambda c: ["ms"], target, seed=7)
    assert again.rounds == found.rounds, "the seed gives the same order"
    a, b = (statistics.median(r["ms"] for r in found.runs[c]) for c in "ab")
    assert abs(a - b) / a <= 0.01, "shuffled in blocks: the drift (14% over the round) falls on both"
    sequential = [100 * (1 + 0.01 * i) for i in range(14)]
    assert statistics.median(sequential[7:]) / statistics.median(sequential[:7]) - 1 > 0.06


def test_a_case_still_wide_when_the_budget_ends_is_unstable():
    now = [0.0]

    def clock():
        return now[0]

    rng = random.Random(1)

    def run_round(order):
        now[0] += 10 * len(order)  # 10 s per run
        return [{"ms": 100 * rng.lognormvariate(0, 0.5 if case == "noisy" else 0.001)} for case in order]

    target = Target(budget_s=200)
    found = repeat_until_stable(["quiet", "noisy"], run_round, lambda c: ["ms"], target, seed=3, clock=clock)
    assert found.stable == {"quiet": True, "noisy": False}
    # 14 runs of 10 s, then 3 more of the noisy case while they fit in 200 s
    assert len(found.runs["quiet"]) == 7 and len(found.runs["noisy"]) == 13 and found.elapsed_s == 200
    figure = found.estimate("noisy", "ms", target).figure("ms")
    assert figure["stable"] is False and figure["low"] <= figure["value"] <= figure["high"]
    assert len(figure["values"]) == 13


def test_estimate_of_too_few_values_is_their_range_and_unstable():
    est = estimate([10, 11, 12])
    assert (est.low, est.high, est.median, est.stable) == (10, 12, 11, False)


@pytest.mark.parametrize("capacity,probes", [(80.0, 1), (1234.0, 1), (80.0, 3)])
def test_bisection_finds_the_capacity_of_a_sink_within_its_resolution(capacity, probes):
    """A sink that takes ``capacity`` records/s and one twice as fast, probed in lockstep: a probe
    passes when the sink keeps up with it."""
    capacities = {"slow": capacity, "fast": 2 * capacity}
    seen = []

    def run(order):
        seen.append(order)
        return [{"offered": rate, "achieved": min(rate, capacities[subject])} for subject, rate in order]

    found = highest_sustainable_rate({s: 4 * c for s, c in capacities.items()}, run,
                                     lambda subject, r: r["achieved"] >= 0.99 * r["offered"],
                                     probes_per_step=probes, seed=1, max_steps=12)
    for subject, cap in capacities.items():
        got = found[subject]
        assert got.low <= cap <= got.high and got.narrow and not got.capped
        assert got.rate == pytest.approx(cap, rel=0.05), got
        assert got.figure("records/s") == {"value": got.rate, "unit": "records/s", "low": got.low,
                                           "high": got.high, "stable": True}
        assert sorted(p["rate"] for p in got.probes[:probes]) == [4 * cap * (j + 1) / (probes + 1)
                                                                  for j in range(probes)]
    assert all(len(step) == 2 * probes for step in seen[:2])
    assert any([s for s, _ in step] != sorted(s for s, _ in step) for step in seen), "shuffled"
    if probes == 3:
        assert len(seen) < 12 / 2, "three probes a step narrow the bracket fourfold"


def test_bisection_of_a_subject_that_sustains_everything_is_capped():
    found = highest_sustainable_rate({"x": 100.0}, lambda order: [{} for _ in order],
                                     lambda subject, result: True, seed=0, max_steps=4)
    got = found["x"]
    assert (got.rate, got.capped, len(got.probes), got.high) == (93.75, True, 4, 100.0)
    assert got.figure("records/s")["stable"] is False


class StallingSink:
    """A sink of known capacity whose probes fail by chance: a probe at or below the capacity
    passes unless a stall of the machine hits it (``stall`` of them, at any rate), so one search
    can end far below the capacity."""

    def __init__(self, capacity: float, stall: float, seed: int):
        self.capacity, self.stall, self.rng = capacity, stall, random.Random(seed)
        self.steps: list[list] = []

    def run(self, order):
        self.steps.append(order)
        return [{"rate": rate, "ok": rate <= self.capacity and self.rng.random() >= self.stall}
                for _, rate in order]


SEARCH = {"probes_per_step": 3, "max_steps": 3}  # native_vs_rest_performance's


def answers(sink: StallingSink, searches: int, seed: int) -> list[float]:
    """The rates of ``searches`` independent searches of the sink, run in lockstep."""
    run = sustainable_searches({"sink": 1.25 * sink.capacity}, sink.run, lambda _, r: r["ok"], seed=seed, **SEARCH)
    return [r["rate"] for r in run(["sink"] * searches)]


def test_searches_of_a_round_run_in_lockstep_each_on_its_own():
    sink = StallingSink(1000.0, 0.0, seed=1)
    run = sustainable_searches({"a": 1250.0, "b": 2500.0}, sink.run, lambda _, r: r["ok"], seed=7, **SEARCH)
    results = run(["a", "b", "a"])
    assert len(sink.steps) == 3 and all(len(step) == 3 * 3 for step in sink.steps), "3 searches, 3 probes a step"
    for result, top in zip(results, (1250.0, 2500.0, 1250.0), strict=True):
        assert result["rate"] == pytest.approx(1000, rel=0.05) and result["rate"] <= 1000 <= result["high"]
        assert result["low"] == result["rate"] and not result["capped"] and len(result["probes"]) == 9
        assert result["probes"][0]["rate"] in (top / 4, top / 2, 3 * top / 4)
    assert [r["rate"] for r in run(["a"] * 3)] == [results[0]["rate"]] * 3, "no stall: every search alike"


def test_a_stall_moves_one_search_but_not_the_median_of_the_searches():
    """With 5% of the probes failing by chance, single searches land anywhere below the capacity;
    the median of 7 stays near it, and its interval covers the median of all searches' answers
    (found from 4,000 searches) in at least 19 of 20 loops."""
    sink = StallingSink(1000.0, 0.05, seed=3)
    population = answers(sink, 4000, seed=4)
    assert min(population) < 0.5 * 1000, "a stall in an early step moves one search by half the range"
    truth = statistics.median(population)
    assert truth == pytest.approx(1000, rel=0.05)
    covered = 0
    for loop in range(20):
        found = repeat_until_stable(["sink"], sustainable_searches(
            {"sink": 1250.0}, sink.run, lambda _, r: r["ok"], seed=loop, **SEARCH),
            lambda case: ("rate",), Target(budget_s=0), seed=loop)
        est = found.estimate("sink", "rate")
        assert len(est.values) == 7 and est.median == pytest.approx(1000, rel=0.06)
        covered += est.low <= truth <= est.high
    assert covered >= 19
