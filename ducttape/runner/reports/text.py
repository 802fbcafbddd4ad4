"""report.txt: the session's tests as a table, then for each test its figures, what it showed
and why it failed."""

from __future__ import annotations

from tabulate import tabulate

from ducttape.runner.reports.summary import builds_line, figures_table, headline, params_line, when
from ducttape.runner.result import FAIL, FLAKY, SessionInfo, TestResult


def table(results: list[TestResult]) -> str:
    """One row per test: id, status, time and its one-line error."""
    if any(r.tags for r in results):
        tagged = [(r.test_id, r.status, f"{r.duration:.1f}s", " ".join(r.tags), r.error) for r in results]
        return tabulate(tagged, headers=("test", "status", "time", "tags", "error"), tablefmt="simple")
    rows = [(r.test_id, r.status, f"{r.duration:.1f}s", r.error) for r in results]
    return tabulate(rows, headers=("test", "status", "time", "error"), tablefmt="simple")


def section(r: TestResult) -> list[str]:
    """A test's part under the table: its figures (and other returned values), its ``show()``
    text, the attempts of a flaky test, and a failed test's details; [] if it has none."""
    parts = [part for part in (figures_table(r.data), r.summary) if part]
    if r.status == FLAKY:
        parts += [
            f"attempt {n} ({a['folder']}): {a['status']} {a['error']}".rstrip() for n, a in enumerate(r.attempts, 1)
        ]
    if r.known_failure:
        parts.append(f"known failure: {r.known_failure}")
    if r.status == FAIL and r.details:
        parts.append(r.details.rstrip())
    return [f"--- {r.test_id}: {r.status}", *parts, ""] if parts else []


def render(session: SessionInfo, results: list[TestResult]) -> str:
    """report.txt of the session."""
    builds = builds_line(session, results)
    lines = [
        f"ducttape session {session.session_id}",
        f"cluster:  {session.cluster}",
        f"started:  {when(session.started)}",
        f"builds:   {builds or 'none used'}",
        *([f"params:   {params_line(session.params)}"] if session.params else []),
        f"result:   {headline(session, results)}",
        "",
        table(results),
        "",
    ]
    for r in results:
        lines += section(r)
    return "\n".join(lines)
