"""Session reports (text, JSON, HTML, JUnit XML), rewritten while a session runs and at its end."""

from __future__ import annotations

import os

from ducttape.runner.reports import html, junit, json_report, text
from ducttape.runner.result import SessionInfo, TestResult

WRITERS = {
    "report.txt": text.render,
    "report.json": json_report.render,
    "report.html": html.render,
    "junit.xml": junit.render,
}


def write_reports(session: SessionInfo, results: list[TestResult]) -> None:
    """(Re)write every report of the session; each file is replaced atomically."""
    for name, render in WRITERS.items():
        path = os.path.join(session.path, name)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            f.write(render(session, results))
        os.replace(tmp, path)
