"""The history of sessions under a results folder: each figure's series and its change points.

A series is one figure of one test across the sessions that returned it, oldest first; each
point names its session, start time, build (from the session's build manifest) and session
parameters. Its change points (``ducttape.runner.trends``, the same test as ``invoke compare``) are
what ``invoke history`` prints and the index marks, each with the sessions and builds on both
sides, the change of the median and whether that is better or worse for the figure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ducttape.runner.figures import HIGHER, LOWER, figures
from ducttape.runner.files import read_json_or_skip, warn_skipped


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


def build_label(manifest: object) -> str:
    """A short name of what a session ran: each project's version or git SHA (10 digits)."""
    if not isinstance(manifest, dict):
        return ""
    words = []
    for name, entry in sorted(manifest.items()):
        if not isinstance(entry, dict):
            continue
        sha = entry.get("git_sha") or entry.get("source_hash")
        words.append(
            f"{name} {entry.get('version') or ''}{'@' if sha and entry.get('version') else ''}"
            f"{(sha or '')[:10]}".strip()
        )
    return ", ".join(words)


def used_label(manifest: object, builds: list[str] | None, versions: dict | None = None) -> str:
    """``build_label`` of only the projects in ``builds`` (a project not in ``manifest`` by its
    name), then each recorded version (``etcd 3.4.23``). With ``builds`` None (a session recorded
    before tests said what they used): the whole manifest's label."""
    if builds is None:
        return build_label(manifest)
    built = manifest if isinstance(manifest, dict) else {}
    words = [build_label({name: built[name]}) or name if name in built else name for name in sorted(set(builds))]
    words += [f"{name} {version}" for name, version in sorted((versions or {}).items())]
    return ", ".join(words)


def session_uses(tests: list) -> tuple[list[str], dict[str, str]]:
    """The builds and recorded versions that ``tests`` (TestResults or their dicts) used."""
    builds: set[str] = set()
    versions: dict[str, str] = {}
    for t in tests:
        d = t if isinstance(t, dict) else vars(t)
        builds.update(d.get("builds") or ())
        versions.update(d.get("versions") or {})
    return sorted(builds), versions


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
        if name == "latest" or os.path.islink(path) or not os.path.isdir(path):
            continue
        doc = read_json_or_skip(os.path.join(path, "report.json"))
        if isinstance(doc, dict):
            doc["path"] = path
            docs.append(doc)
        elif doc is not None:
            warn_skipped(os.path.join(path, "report.json"), "not a session report")
    return sorted(docs, key=lambda d: (d.get("started") or 0, d.get("session_id", "")))


def all_series(sessions: list[dict], with_unit_only: bool = True) -> list[Series]:
    """Each figure's series over ``sessions`` (oldest first), only from passed or flaky tests."""
    found: dict[tuple[str, str], Series] = {}
    for doc in sessions:
        manifest = doc.get("build_manifest")
        for test in doc.get("tests", []):
            if test.get("status") not in ("PASS", "FLAKY"):
                continue
            build = used_label(manifest, test.get("builds"), test.get("versions"))
            for name, fig in figures(test.get("data")).items():
                if with_unit_only and not fig.unit:
                    continue
                key = (test["test_id"], name)
                series = found.setdefault(key, Series(test["test_id"], name, fig.unit, fig.better))
                series.points.append(
                    Point(
                        doc["session_id"],
                        doc.get("started") or 0,
                        build,
                        doc.get("params") or {},
                        fig.value,
                        fig.values,
                        fig.low,
                        fig.high,
                    )
                )
    return list(found.values())


def render_history(results_root: str) -> str:
    """The change points of every figure with a unit under ``results_root``, as text."""
    from ducttape.runner.compare import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD
    from ducttape.runner.trends import MIN_SESSIONS, trend_changes

    sessions = load_sessions(results_root)
    series = all_series(sessions)
    changes = [(s, c) for s in series for c in trend_changes(s)]
    lines = [
        f"{len(sessions)} sessions under {results_root}; {len(series)} figures with a unit; "
        f"{len(changes)} change points (medians of the repeats on either side differ by more than "
        f"{DEFAULT_THRESHOLD:g}% at {DEFAULT_CONFIDENCE:.0%} confidence, Mann-Whitney U as in "
        f"`compare`; at least {MIN_SESSIONS} sessions a side)"
    ]
    lines += [f"  {c.describe(s)}" for s, c in changes]
    return "\n".join(lines)
