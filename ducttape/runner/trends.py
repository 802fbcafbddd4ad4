"""Change points of a figure's trend (its series over the sessions, ducttape.runner.history),
judged with the test of ``invoke compare``.

A split of the series into the sessions before and after it is a change point when
``compare.judge`` flags the two groups: a two-sided Mann-Whitney U test over every repeat of the
sessions on each side finds them different and their medians differ by more than the minimum
effect (5%), with at least ``MIN_SESSIONS`` sessions on each side (one odd session is not a
change). The split judged is the one that explains the values best (the largest shift of the
mean, weighted by the sizes of the two sides); since it was chosen among all possible splits,
the 5% error that ``compare`` allows is divided by their number (Bonferroni), so a long series
of noise is not cut by chance. Each side is then searched again (binary segmentation), so a
series can have several. A figure with a single value per session needs about 6 sessions a side;
with 5 or more repeats per session, 2 a side are enough for a clear step.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ducttape.runner.figures import Figure
from ducttape.runner.history import Point, Series

MIN_SESSIONS = 2
"""Sessions on each side of a change point, at least."""


@dataclass
class Change:
    """The series changed between ``points[index - 1]`` and ``points[index]``."""

    index: int
    before: list[Point]
    after: list[Point]
    change_pct: float
    verdict: str
    p_value: float

    def describe(self, series: Series) -> str:
        """One line: the figure, the change, and the sessions and builds on both sides."""
        a, b = self.before[-1], self.after[0]
        medians = [statistics.median(v for p in side for v in p.values) for side in (self.before, self.after)]
        return (
            f"{series.label}: {self.change_pct:+.1f}% ({self.verdict}) between "
            f"{a.session_id} [{a.build or 'no build'}{_params(a.params)}] and "
            f"{b.session_id} [{b.build or 'no build'}{_params(b.params)}]; median "
            f"{medians[0]:.4g} over {len(self.before)} session(s) -> {medians[1]:.4g} over "
            f"{len(self.after)}"
        )

    def to_dict(self) -> dict:
        def point(p: Point) -> dict:
            return {"session_id": p.session_id, "build": p.build, "params": p.params, "value": p.value}

        return {
            "index": self.index,
            "change_pct": self.change_pct,
            "verdict": self.verdict,
            "p_value": self.p_value,
            "last_before": point(self.before[-1]),
            "first_after": point(self.after[0]),
            "sessions_before": len(self.before),
            "sessions_after": len(self.after),
            "repeats_before": sum(len(p.values) for p in self.before),
            "repeats_after": sum(len(p.values) for p in self.after),
            "median_before": statistics.median(v for p in self.before for v in p.values),
            "median_after": statistics.median(v for p in self.after for v in p.values),
        }


def _pooled(series: Series, points: list[Point]) -> Figure:
    values = [v for p in points for v in p.values]
    return Figure(statistics.median(values), series.unit, series.better, values)


def _shift(before: list[Point], after: list[Point]) -> float:
    """How well a split explains the values: n*m/(n+m) times the squared difference of the two
    sides' means (least-squares segmentation); the largest marks where a series moved."""
    a = [v for p in before for v in p.values]
    b = [v for p in after for v in p.values]
    return len(a) * len(b) / (len(a) + len(b)) * (statistics.fmean(a) - statistics.fmean(b)) ** 2


def trend_changes(series: Series) -> list[Change]:
    """The change points of ``series``, oldest first."""
    from ducttape.runner.compare import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD, judge  # compare imports the reports

    points = series.points
    found: list[Change] = []

    def search(lo: int, hi: int) -> None:
        splits = range(lo + MIN_SESSIONS, hi - MIN_SESSIONS + 1)
        if not splits:
            return
        i = max(splits, key=lambda k: _shift(points[lo:k], points[k:hi]))
        # the split was chosen among len(splits): they share compare's 5% error (Bonferroni)
        confidence = 1 - (1 - DEFAULT_CONFIDENCE) / len(splits)
        row = judge(_pooled(series, points[lo:i]), _pooled(series, points[i:hi]), DEFAULT_THRESHOLD, confidence)
        if not row.flagged or row.change_pct is None or row.p_value is None:  # flagged: both are set
            return
        search(lo, i)
        found.append(Change(i, points[lo:i], points[i:hi], row.change_pct, row.verdict, row.p_value))
        search(i, hi)

    search(0, len(points))
    return found


def _params(params: dict) -> str:
    return "; " + " ".join(f"{k}={v}" for k, v in params.items()) if params else ""
