"""Figures that hold still: the confidence interval of a repeated measurement's median, repeats
until that interval is narrow, and the highest rate a system sustains.

Any performance service or test can use it; it knows nothing of what is measured. A measurement
is a function that runs cases (opaque keys, e.g. ``("native", 1000)``) in a given order and
returns one dict of numbers per run.

- ``median_interval``: the distribution-free confidence interval of the median from order
  statistics (the binomial rule): its coverage is at least the confidence for any continuous
  distribution, so it needs 6 values at 95%, 7 at 97.5%.
- ``repeat_until_stable``: rounds of runs in blocks that run every case still unstable once, each
  in a shuffled order (seed recorded) so that drift of the machine falls on all cases alike, until
  each case's judged figures have an interval within ``±width_pct`` of their median, or the time
  budget ends (those cases are then unstable). Stopping when an interval happens to be narrow
  would make intervals cover less often than they claim, so the loop draws them at ``1 - (1 -
  confidence) / 2`` (97.5% for 95%): simulated over 2,000 loops of log-normal and skewed values,
  they then covered the true median 96.6-99% of the time; drawn at 95%, as little as 95.3% (94.2%
  when the first round had 6 repeats).
- ``highest_sustainable_rate``: bisection over constant-rate runs for the highest offered rate
  that passes a check (e.g. achieved >= 99% of it with p99 under a bound), several subjects in
  lockstep, each step's probes in a shuffled order; the answer comes with the bracket it was
  narrowed to. One search decides each probe on one run, so a chance stall moves its answer by a
  whole bracket: ``sustainable_searches`` makes whole searches the runs of
  ``repeat_until_stable``, so the rate gets the interval of its median over independent searches.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable

CONFIDENCE = 0.95
WIDTH_PCT = 5.0
"""Default target: the interval's ends within ±5% of the median."""
MIN_REPEATS = 7
"""Fewest values whose order-statistics interval of the median reaches 97.5% (1 - 2/2^7 = 98.4%),
the level ``repeat_until_stable`` draws its intervals at for 95%."""


def median_interval(values: Iterable[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """The ``confidence`` interval of the median of ``values`` from order statistics: the pair
    ``(x_(k), x_(n+1-k))`` of the sorted values with the largest ``k`` whose coverage
    ``1 - 2 P(Binomial(n, 1/2) < k)`` is at least ``confidence``; None when even ``(min, max)``
    does not reach it (too few values)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return None
    tail, best = 0.0, None  # tail: P(B < k) for the k being tried
    for k in range(1, n // 2 + 1):
        tail += math.comb(n, k - 1) / 2**n
        if 1 - 2 * tail < confidence:
            break
        best = k
    return None if best is None else (xs[best - 1], xs[n - best])


@dataclass
class Estimate:
    """A repeated figure: its values (in the order they were measured), median, interval and
    whether the interval is within the target width (``stable``)."""

    values: list[float]
    low: float
    high: float
    stable: bool

    @property
    def median(self) -> float:
        """The median of the values."""
        return statistics.median(self.values)

    def figure(self, unit: str) -> dict:
        """The figure as a test returns it (ducttape.runner.figures): ``value`` (the median),
        ``unit``, every repeat under ``values``, the interval as ``low``/``high`` and
        ``stable``."""
        return {
            "value": self.median,
            "unit": unit,
            "values": list(self.values),
            "low": self.low,
            "high": self.high,
            "stable": self.stable,
        }


def estimate(values: Iterable[float], width_pct: float = WIDTH_PCT, confidence: float = CONFIDENCE) -> Estimate:
    """``values`` with their median's interval; too few for one: (min, max), not stable."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("no values to estimate from")
    interval = median_interval(values, confidence)
    if interval is None:
        return Estimate(values, min(values), max(values), False)
    return Estimate(values, *interval, within(statistics.median(values), *interval, width_pct))


def within(median: float, low: float, high: float, width_pct: float) -> bool:
    """Whether ``low`` and ``high`` are both within ``±width_pct`` of ``median``."""
    allowed = abs(median) * width_pct / 100
    return median - low <= allowed and high - median <= allowed


@dataclass(frozen=True)
class Target:
    """When a case is stable, and how long to try: every judged figure's interval (covering its
    median with ``confidence``) within ``±width_pct`` of the median, from at least
    ``min_repeats`` runs (fewer cannot give an interval; they always run) and at most
    ``max_repeats``; later rounds add ``more`` runs per unstable case, as many as fit in
    ``budget_s`` seconds by the pace so far."""

    width_pct: float = WIDTH_PCT
    budget_s: float = 120.0
    min_repeats: int = MIN_REPEATS
    max_repeats: int = 30
    more: int = 3
    confidence: float = CONFIDENCE

    @property
    def level(self) -> float:
        """The level the intervals are drawn at, so that the loop's covers with ``confidence``."""
        return 1 - (1 - self.confidence) / 2


RunRound = Callable[[list], list[dict]]
"""Runs the cases in the order given (a case may come several times) and returns one dict of
numbers per entry, in that order."""


@dataclass
class Repeats:
    """What ``repeat_until_stable`` measured: each case's runs in the order they ran, whether its
    judged figures are stable, the seed of the shuffles and the order of every round."""

    runs: dict = field(default_factory=dict)
    stable: dict = field(default_factory=dict)
    seed: int = 0
    rounds: list = field(default_factory=list)
    elapsed_s: float = 0.0

    def estimate(self, case: Hashable, key: str, target: Target = Target()) -> Estimate | None:
        """The estimate of figure ``key`` of ``case`` over its runs (None: no run had it)."""
        values = [r[key] for r in self.runs.get(case, []) if r.get(key) is not None]
        return estimate(values, target.width_pct, target.level) if values else None


def new_seed() -> int:
    """A seed for the shuffles, to record beside the figures."""
    return random.SystemRandom().randrange(2**31)


def repeat_until_stable(
    cases: list,
    run_round: RunRound,
    judged: Callable[[Any], Iterable[str]],
    target: Target = Target(),
    seed: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Repeats:
    """Measure ``cases`` in rounds until the figures ``judged(case)`` of every case are stable
    (see Target) or the budget ends. A round is made of blocks that run every unstable case
    once, each block in an order shuffled with a ``random.Random(seed)`` (``seed`` None: a new
    one, recorded in the result), so a drift of the machine falls on every case alike. The first
    round has ``min_repeats`` blocks (fewer give no interval); each later one adds ``more``, or
    as many blocks as the budget still has time for at the pace so far (none: the loop ends)."""
    seed = new_seed() if seed is None else seed
    rng = random.Random(seed)
    found = Repeats({case: [] for case in cases}, {case: False for case in cases}, seed)
    started, pending = clock(), list(cases)
    while pending:
        have = min(len(found.runs[c]) for c in pending)
        blocks = min(target.more if found.rounds else target.min_repeats, target.max_repeats - have)
        if found.rounds:
            spent, done = clock() - started, sum(len(v) for v in found.runs.values())
            blocks = min(blocks, int((target.budget_s - spent) / (spent / done * len(pending))))
            if blocks < 1:
                break
        order = []
        for _ in range(blocks):
            order += rng.sample(pending, len(pending))
        results = run_round(order)
        if len(results) != len(order):
            raise ValueError(f"the round ran {len(order)} cases and returned {len(results)} results")
        found.rounds.append(order)
        for case, result in zip(order, results, strict=True):
            found.runs[case].append(result)
        for case in pending:
            estimates = [found.estimate(case, key, target) for key in judged(case)]
            found.stable[case] = all(e is not None and e.stable for e in estimates)
        pending = [c for c in pending if not found.stable[c] and len(found.runs[c]) < target.max_repeats]
    found.elapsed_s = clock() - started
    return found


@dataclass
class Sustained:
    """The highest rate a subject sustained: ``rate`` (the highest offered rate that passed, below
    every rate that failed; 0 when none did) and the bracket it was narrowed to, ``low`` (=
    rate) to ``high`` (the lowest rate that failed, or the top of the search: ``capped`` when no
    probe failed), with every probe; ``narrow`` when the bracket reached the resolution asked."""

    rate: float
    low: float
    high: float
    capped: bool = True
    narrow: bool = False
    probes: list[dict] = field(default_factory=list)

    def figure(self, unit: str) -> dict:
        """The rate as a figure: ``value`` with the bracket as ``low``/``high``; stable when the
        bracket is narrow and its ends were both probed."""
        return {
            "value": self.rate,
            "unit": unit,
            "low": self.low,
            "high": self.high,
            "stable": self.narrow and not self.capped and self.rate > 0,
        }

    def run(self) -> dict:
        """The search as one run of ``repeat_until_stable``: ``rate``, the bracket, ``capped``,
        ``narrow`` and every probe."""
        return {
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
            "capped": self.capped,
            "narrow": self.narrow,
            "probes": list(self.probes),
        }


def highest_sustainable_rate(
    tops: dict,
    run_round: RunRound,
    passed: Callable[[Hashable, dict], bool],
    probes_per_step: int = 1,
    resolution_pct: float = 5.0,
    max_steps: int = 8,
    seed: int | None = None,
) -> dict:
    """Bisection for each subject (key of ``tops``) between 0 and ``tops[subject]`` (a rate
    thought too high to sustain): each step probes every unfinished subject at
    ``probes_per_step`` rates dividing its bracket evenly (1: its middle), all probes
    ``(subject, rate)`` of the step in one shuffled order through ``run_round``;
    ``passed(subject, result)`` judges a probe. The lowest rate that failed becomes the top of
    the bracket, the highest that passed below it its bottom. A subject is done when its bracket
    is within ``resolution_pct`` of its bottom, or after ``max_steps`` steps. Returns
    ``{subject: Sustained}``."""
    rng = random.Random(new_seed() if seed is None else seed)
    found = {s: Sustained(0.0, 0.0, float(top)) for s, top in tops.items()}
    pending = list(tops)
    for _ in range(max_steps):
        if not pending:
            break
        order = [
            (s, found[s].low + (found[s].high - found[s].low) * (j + 1) / (probes_per_step + 1))
            for s in pending
            for j in range(probes_per_step)
        ]
        rng.shuffle(order)
        results = run_round(order)
        if len(results) != len(order):
            raise ValueError(f"the step ran {len(order)} probes and returned {len(results)} results")
        for (subject, rate), result in zip(order, results, strict=True):
            found[subject].probes.append({"rate": rate, "passed": bool(passed(subject, result)), **result})
        for subject in pending:
            got = found[subject]
            failed = [p["rate"] for p in got.probes if not p["passed"]]
            got.high = min([got.high, *failed])
            got.low = max([got.low, *(p["rate"] for p in got.probes if p["passed"] and p["rate"] < got.high)])
            got.rate, got.capped = got.low, not failed
            got.narrow = got.low > 0 and got.high - got.low <= got.low * resolution_pct / 100
        pending = [s for s in pending if not found[s].narrow]
    return found


def sustainable_searches(
    tops: dict,
    run_probes: RunRound,
    passed: Callable[[Hashable, dict], bool],
    seed: int | None = None,
    **search: Any,
) -> RunRound:
    """A ``RunRound`` for ``repeat_until_stable`` whose runs are whole searches: each entry of a
    round's order (a subject of ``tops``) gets a ``highest_sustainable_rate`` search of its own,
    all searches of the round in lockstep (each step's probes of every search in one shuffled
    order through ``run_probes``, as ``(subject, rate)``), each independent of the others. A
    run's result is ``Sustained.run()``: the search's ``rate`` is the figure to judge.
    ``search``: ``probes_per_step``, ``resolution_pct``, ``max_steps``."""
    rng = random.Random(new_seed() if seed is None else seed)

    def run_round(order: list) -> list[dict]:
        subjects: dict[Hashable, Hashable] = {(i, subject): subject for i, subject in enumerate(order)}
        found = highest_sustainable_rate(
            {key: tops[subject] for key, subject in subjects.items()},
            lambda probes: run_probes([(subjects[key], rate) for key, rate in probes]),
            lambda key, result: passed(subjects[key], result),
            seed=rng.randrange(2**31),
            **search,
        )
        return [found[key].run() for key in subjects]

    return run_round
