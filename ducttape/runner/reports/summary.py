"""Counts and small formatting helpers shared by the reports."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from typing import Iterable

from tabulate import tabulate

from ducttape.runner.figures import figures
from ducttape.runner.history import session_uses, used_label
from ducttape.runner.result import SessionInfo, TestResult


def counts(results: list[TestResult]) -> Counter:
    return Counter(r.status for r in results)


def headline(session: SessionInfo, results: list[TestResult]) -> str:
    c = counts(results)
    words = {
        "PASS": "passed",
        "FAIL": "failed",
        "FLAKY": "flaky",
        "KNOWN-FAIL": "known failures",
        "UNEXPECTED-PASS": "unexpected passes",
        "NOT-RUN": "not run",
    }
    parts = [f"{n} {words.get(status, status.lower())}" for status, n in sorted(c.items())]
    state = "interrupted" if session.interrupted else ("finished" if session.finished else "running")
    return f"{len(results)} tests: {', '.join(parts) or 'none run'} ({state})"


def params_line(params: dict) -> str:
    """The session's parameters as ``key=value`` words, in the order they were given."""
    return " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in params.items())


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def iso_time(ts: float | None) -> str:
    """``ts`` as ISO 8601 local time with its UTC offset (``2026-11-28T04:30:00+01:00``)."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else ""


def builds_line(session: SessionInfo, results: list[TestResult]) -> str:
    """The builds the session's tests used and the versions they recorded (``kafka 4.1.1,
    etcd 3.4.23``), '' if none."""
    builds, versions = session_uses(results)
    return used_label(session.build_manifest, builds, versions)


def figures_table(data: object) -> str:
    """The figures in a test's returned data as a table (figure, value, unit, better), '' if
    it returned none; other values it returned (text, flags) follow as ``key: value`` lines."""
    found = figures(data)
    lines = []
    if found:
        rows = [(name or "(value)", f"{f.value:.6g}", f.unit, f.better or "-") for name, f in found.items()]
        lines.append(
            tabulate(rows, headers=("figure", "value", "unit", "better"), tablefmt="simple", disable_numparse=True)
        )
    lines += [f"{key}: {value}" for key, value in _other_values(data, "") if data is not None]
    return "\n".join(lines)


def _other_values(data: object, prefix: str) -> list[tuple[str, str]]:
    """Leaves of ``data`` that are not figures (text, flags, null), by dotted path."""
    if isinstance(data, dict):
        if figures(data) and set(data) <= {"value", "values", "unit", "better"}:
            return []
        items: Iterable[tuple[object, object]] = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    elif isinstance(data, bool) or data is None or isinstance(data, str):
        return [(prefix or "(value)", json.dumps(data) if not isinstance(data, str) else data)]
    else:
        return []
    found = []
    for key, value in items:
        found += _other_values(value, f"{prefix}.{key}" if prefix else str(key))
    return found
