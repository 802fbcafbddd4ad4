"""report.txt: a tabulate table of the session's tests."""

from __future__ import annotations

from tabulate import tabulate

from ducttape.runner.reports.summary import data_summary, headline, params_line, when
from ducttape.runner.result import SessionInfo, TestResult


def table(results: list[TestResult]) -> str:
    rows = [(r.test_id, r.status, f"{r.duration:.1f}s", r.error or data_summary(r.data, 60))
            for r in results]
    return tabulate(rows, headers=("test", "status", "time", "error / data"), tablefmt="simple")


def render(session: SessionInfo, results: list[TestResult]) -> str:
    lines = [f"ducttape session {session.session_id}",
             f"cluster:  {session.cluster}",
             f"started:  {when(session.started)}",
             *([f"params:   {params_line(session.params)}"] if session.params else []),
             f"result:   {headline(session, results)}", "", table(results), ""]
    for r in results:
        if r.summary:
            lines += [f"--- {r.test_id}", r.summary, ""]
    for r in results:
        if r.status == "FAIL" and r.details:
            lines += [f"--- {r.test_id}: {r.status}", r.details.rstrip(), ""]
    return "\n".join(lines)
