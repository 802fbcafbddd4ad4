"""Session reports (text, JSON, HTML, JUnit XML), rewritten while a session runs and at its end;
at the end of a session also the results folder's index.html (every session, trends of every
figure)."""

from __future__ import annotations

import os

from ducttape.runner.reports import html, junit, json_report, text
from ducttape.runner.reports.index import write_index
from ducttape.runner.result import SessionInfo, TestResult

WRITERS = {
    "report.txt": text.render,
    "report.json": json_report.render,
    "report.html": html.render,
    "junit.xml": junit.render,
}


def write_reports(session: SessionInfo, results: list[TestResult]) -> None:
    """(Re)write every report of the session, each file replaced atomically; once the session
    has finished, rewrite the index of the results folder that holds it."""
    for name, render in WRITERS.items():
        path = os.path.join(session.path, name)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            f.write(render(session, results))
        os.replace(tmp, path)
    if session.finished is not None:
        write_index(os.path.dirname(os.path.abspath(session.path)))
