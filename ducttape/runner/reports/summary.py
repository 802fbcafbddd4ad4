"""Counts and small formatting helpers shared by the reports."""

from __future__ import annotations

import json
import time
from collections import Counter

from ducttape.runner.result import SessionInfo, TestResult


def counts(results: list[TestResult]) -> Counter:
    return Counter(r.status for r in results)


def headline(session: SessionInfo, results: list[TestResult]) -> str:
    c = counts(results)
    words = {"PASS": "passed", "FAIL": "failed", "FLAKY": "flaky"}
    parts = [f"{n} {words.get(status, status.lower())}" for status, n in sorted(c.items())]
    state = "interrupted" if session.interrupted else ("finished" if session.finished else "running")
    return f"{len(results)} tests: {', '.join(parts) or 'none run'} ({state})"


def params_line(params: dict) -> str:
    """The session's parameters as ``key=value`` words, in the order they were given."""
    return " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in params.items())


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def data_summary(data: object, limit: int = 120) -> str:
    """A short one-line rendering of a test's returned data."""
    if data is None:
        return ""
    text = json.dumps(data, default=str, sort_keys=True)
    return text if len(text) <= limit else text[:limit - 3] + "..."
