"""report.json: everything report.html shows, for programs."""

from __future__ import annotations

import json

from ducttape.runner.reports.view import session_view
from ducttape.runner.result import SessionInfo, TestResult


def render(session: SessionInfo, results: list[TestResult]) -> str:
    return json.dumps(session_view(session, results), indent=2, default=str) + "\n"
