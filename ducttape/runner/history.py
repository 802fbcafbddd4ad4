"""The history of sessions under a results folder: each figure's series and its change points.

A series is one figure of one test across the sessions that returned it, oldest first; each
point names its session, start time, build (from the session's build manifest) and session
parameters. Change points are found as Apache Otava (Hunter) finds them: E-Divisive means
(MongoDB's signal-processing-algorithms) proposes where a series splits, and a change point is
kept only when Student's t-test finds the segments on its two sides different at 99.99% and their
means differ by more than a minimum effect. Each is reported with the sessions and builds on both
sides, the change of the mean between the two segments and whether that is better or worse for
the figure.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field

from ducttape.runner.figures import HIGHER, LOWER, figures

CANDIDATE_PVALUE = 0.05
"""E-Divisive's permutation test proposes candidates at this p-value ..."""
CHANGE_PVALUE = 0.0001
"""... and Student's t-test between the segments either side keeps those below this one."""
MIN_CHANGE_PCT = 2.0
"""... whose segment means differ by more than this many percent."""
CHANGE_PERMUTATIONS = 199
MIN_POINTS = 6
"""Shorter series are not searched for change points (too few sessions to judge)."""
SEED = 1234
"""The permutation test is random; a fixed seed gives the same answer for the same history."""


@dataclass
class Point:
    session_id: str
    started: float
    build: str
    params: dict
    value: float
    values: list[float]
    low: float | None = None
    high: float | None = None
    """The interval of the session's median, when the figure had one."""


@dataclass
class Series:
    test_id: str
    figure: str
    unit: str
    better: str
    points: list[Point] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.test_id}: {self.figure}" + (f" ({self.unit})" if self.unit else "")


@dataclass
class ChangePoint:
    """The series changed between ``before[-1]`` and ``after[0]`` (segments between change points)."""

    series: Series
    index: int
    before: list[Point]
    after: list[Point]
    change_pct: float
    verdict: str

    def describe(self) -> str:
        a, b = self.before[-1], self.after[0]
        return (f"{self.series.label}: {self.change_pct:+.1f}% ({self.verdict}) between "
                f"{a.session_id} [{a.build or 'no build'}{_params(a.params)}] and "
                f"{b.session_id} [{b.build or 'no build'}{_params(b.params)}]; mean "
                f"{statistics.fmean(p.value for p in self.before):.4g} over {len(self.before)} "
                f"session(s) -> {statistics.fmean(p.value for p in self.after):.4g} over {len(self.after)}")

    def to_dict(self) -> dict:
        return {"test_id": self.series.test_id, "figure": self.series.figure, "unit": self.series.unit,
                "better": self.series.better, "change_pct": self.change_pct, "verdict": self.verdict,
                "last_before": _point_dict(self.before[-1]), "first_after": _point_dict(self.after[0]),
                "sessions_before": len(self.before), "sessions_after": len(self.after)}


def _point_dict(p: Point) -> dict:
    return {"session_id": p.session_id, "build": p.build, "params": p.params, "value": p.value}


def _params(params: dict) -> str:
    return "; " + " ".join(f"{k}={v}" for k, v in params.items()) if params else ""


def build_label(manifest: object) -> str:
    """A short name of what a session ran: each project's version or git SHA (10 digits)."""
    if not isinstance(manifest, dict):
        return ""
    words = []
    for name, entry in sorted(manifest.items()):
        if not isinstance(entry, dict):
            continue
        sha = entry.get("git_sha") or entry.get("source_hash")
        words.append(f"{name} {entry.get('version') or ''}{'@' if sha and entry.get('version') else ''}"
                     f"{(sha or '')[:10]}".strip())
    return ", ".join(words)


def verdict(change: float, better: str) -> str:
    """``better``, ``worse`` or ``changed`` (neutral figure) for a change of sign ``change``."""
    if better not in (HIGHER, LOWER) or change == 0:
        return "changed"
    return "better" if (change > 0) == (better == HIGHER) else "worse"


def load_sessions(results_root: str) -> list[dict]:
    """Every readable session's report.json under ``results_root``, oldest first; each doc gets
    ``path`` (its folder). Unreadable ones are skipped: one broken session must not hide the rest."""
    docs = []
    try:
        names = sorted(os.listdir(results_root))
    except FileNotFoundError:
        return []
    for name in names:
        path = os.path.join(results_root, name)
        if name == "latest" or os.path.islink(path):
            continue
        try:
            with open(os.path.join(path, "report.json")) as f:
                doc = json.load(f)
            doc["path"] = path
            docs.append(doc)
        except (OSError, ValueError):
            continue
    return sorted(docs, key=lambda d: (d.get("started") or 0, d.get("session_id", "")))


def all_series(sessions: list[dict], with_unit_only: bool = True) -> list[Series]:
    """Each figure's series over ``sessions`` (oldest first), only from passed or flaky tests."""
    found: dict[tuple[str, str], Series] = {}
    for doc in sessions:
        build = build_label(doc.get("build_manifest"))
        for test in doc.get("tests", []):
            if test.get("status") not in ("PASS", "FLAKY"):
                continue
            for name, fig in figures(test.get("data")).items():
                if with_unit_only and not fig.unit:
                    continue
                key = (test["test_id"], name)
                series = found.setdefault(key, Series(test["test_id"], name, fig.unit, fig.better))
                series.points.append(Point(doc["session_id"], doc.get("started") or 0, build,
                                           doc.get("params") or {}, fig.value, fig.values, fig.low, fig.high))
    return list(found.values())


def change_points(series: Series, pvalue: float = CHANGE_PVALUE) -> list[ChangePoint]:
    """The change points of ``series`` found by E-Divisive means, oldest first."""
    values = [p.value for p in series.points]
    if len(values) < MIN_POINTS or len(set(values)) == 1:
        return []
    from signal_processing_algorithms.determinism import deterministic_numpy_random
    from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive

    from scipy.stats import ttest_ind

    with deterministic_numpy_random(SEED):
        indices = sorted(e_divisive(values, pvalue=CANDIDATE_PVALUE, permutations=CHANGE_PERMUTATIONS))
    bounds = [0, *indices, len(values)]
    found = []
    for k, i in enumerate(indices):
        before, after = series.points[bounds[k]:i], series.points[i:bounds[k + 2]]
        a, b = [p.value for p in before], [p.value for p in after]
        mean_before, mean_after = statistics.fmean(a), statistics.fmean(b)
        if mean_before == 0 or len(a) < 2 or len(b) < 2:
            continue
        change = (mean_after - mean_before) / abs(mean_before) * 100
        if abs(change) <= MIN_CHANGE_PCT:
            continue
        if len(set(a)) > 1 or len(set(b)) > 1:  # two constant segments: nothing to test, a plain step
            if not ttest_ind(a, b).pvalue < pvalue:
                continue
        found.append(ChangePoint(series, i, before, after, change, verdict(change, series.better)))
    return found


def render_history(results_root: str) -> str:
    """The change points of every figure with a unit under ``results_root``, as text."""
    sessions = load_sessions(results_root)
    series = all_series(sessions)
    cps = [cp for s in series for cp in change_points(s)]
    lines = [f"{len(sessions)} sessions under {results_root}; {len(series)} figures with a unit; "
             f"{len(cps)} change points (E-Divisive means, kept where Student's t-test gives p < "
             f"{CHANGE_PVALUE:g} and the means differ by more than {MIN_CHANGE_PCT:g}%; series of "
             f"at least {MIN_POINTS} sessions)"]
    lines += [f"  {cp.describe()}" for cp in cps]
    return "\n".join(lines)
