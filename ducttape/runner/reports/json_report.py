"""report.json: everything the other reports show, for programs."""

from __future__ import annotations

import json

from ducttape.runner.reports.summary import counts
from ducttape.runner.result import SessionInfo, TestResult


def render(session: SessionInfo, results: list[TestResult]) -> str:
    doc = {
        "session_id": session.session_id,
        "cluster": session.cluster,
        "started": session.started,
        "finished": session.finished,
        "interrupted": session.interrupted,
        "summary": dict(counts(results), total=len(results)),
        "build_manifest": session.build_manifest,
        "params": session.params,
        "tests": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
