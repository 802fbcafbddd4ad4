"""Session reports (text, JSON, HTML, JUnit XML), rewritten while a session runs and at its end;
at the end of a session also the results folder's index.html (every session, trends of every
figure)."""

from __future__ import annotations

import os

from ducttape.runner.files import write_atomic
from ducttape.runner.reports import html, junit, json_report, text
from ducttape.runner.reports.index import write_index
from ducttape.runner.reports.view import session_view
from ducttape.runner.result import SessionInfo, TestResult

WRITERS = {
    "report.txt": lambda session, results, view, kept: text.render(session, results),
    "report.json": lambda session, results, view, kept: json_report.render(view, kept),
    "report.html": lambda session, results, view, kept: html.render(session, view, kept),
    "junit.xml": lambda session, results, view, kept: junit.render(session, results),
}


def write_reports(session: SessionInfo, results: list[TestResult], entries: dict | None = None) -> None:
    """(Re)write every report of the session, each file replaced atomically; once the session
    has finished, rewrite the index of the results folder that holds it. A running session
    passes the same ``entries`` every time: each test's part of the view and of each report that
    keeps one, computed once (a result is final when it is reported), one cache per name."""
    entries = {} if entries is None else entries
    view = session_view(session, results, entries.setdefault("view", {}))
    for name, render in WRITERS.items():
        write_atomic(os.path.join(session.path, name), render(session, results, view, entries.setdefault(name, {})))
    if session.finished is not None:
        write_index(os.path.dirname(os.path.abspath(session.path)))
