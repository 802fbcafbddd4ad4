"""Change points of a figure's trend (its series over the sessions, ducttape.runner.history),
judged with the test of ``invoke compare``.

A split of the series into the sessions before and after it is a change point when
``compare.judge`` flags the two groups: a two-sided Mann-Whitney U test over every repeat of the
sessions on each side finds them different at 95% confidence and their medians differ by more
than the minimum effect (5%), with at least ``MIN_SESSIONS`` sessions on each side (one odd
session is not a change). The best split (smallest p-value) is kept, and each side is searched
again (binary segmentation), so a series can have several. A figure with a single value per
session needs 4 sessions a side to reach 95%.
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

    def to_dict(self) -> dict:
        def point(p: Point) -> dict:
            return {"session_id": p.session_id, "build": p.build, "params": p.params, "value": p.value}

        return {"index": self.index, "change_pct": self.change_pct, "verdict": self.verdict,
                "p_value": self.p_value, "last_before": point(self.before[-1]),
                "first_after": point(self.after[0]), "sessions_before": len(self.before),
                "sessions_after": len(self.after),
                "repeats_before": sum(len(p.values) for p in self.before),
                "repeats_after": sum(len(p.values) for p in self.after),
                "median_before": statistics.median(v for p in self.before for v in p.values),
                "median_after": statistics.median(v for p in self.after for v in p.values)}


def _pooled(series: Series, points: list[Point]) -> Figure:
    values = [v for p in points for v in p.values]
    return Figure(statistics.median(values), series.unit, series.better, values)


def trend_changes(series: Series) -> list[Change]:
    """The change points of ``series``, oldest first."""
    from ducttape.runner.compare import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD, judge  # compare imports the reports

    points = series.points
    found: list[Change] = []

    def search(lo: int, hi: int) -> None:
        best = None
        for i in range(lo + MIN_SESSIONS, hi - MIN_SESSIONS + 1):
            row = judge(_pooled(series, points[lo:i]), _pooled(series, points[i:hi]), DEFAULT_THRESHOLD,
                        DEFAULT_CONFIDENCE)
            if row.flagged and (best is None or (row.p_value, -abs(row.change_pct)) < best[0]):
                best = ((row.p_value, -abs(row.change_pct)), i, row)
        if best is None:
            return
        _, i, row = best
        search(lo, i)
        found.append(Change(i, points[lo:i], points[i:hi], row.change_pct, row.verdict, row.p_value))
        search(i, hi)

    search(0, len(points))
    return found
