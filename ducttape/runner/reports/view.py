"""What a session's page shows, as plain data: report.html renders it, report.json carries it.

For each test: its figures (with unit and better direction), plots (every ``*.png`` in its
folder), logs (its own, and each service's per node: ``<service>/<node>/...``), other collected
files, the raw ``data.json``, and for a failed remote command the node and command that failed.
Paths are relative to the session folder.
"""

from __future__ import annotations

import os
import re

from ducttape.runner.figures import figures
from ducttape.runner.files import read_json_or_skip, warn_skipped
from ducttape.runner.history import session_uses, used_label
from ducttape.runner.reports.summary import counts, headline
from ducttape.runner.result import SessionInfo, TestResult

COMPARISON_JSON, COMPARISON_PLOT = "comparison.json", "comparison.png"
"""Written into a session by ``invoke compare``; the report shows them when present."""
DATA_FILE = "data.json"
FAILED_COMMAND = re.compile(r"on (?P<node>[^\s:]+): `(?P<command>.*)` (?P<outcome>exited -?\d+|timed out after \S+)")
"""The message of ducttape.remote.errors.RemoteCommandError."""


def failure(error: str) -> dict | None:
    """The node, command and outcome of a failed remote command named in ``error``, with the
    text before and after, or None."""
    m = FAILED_COMMAND.search(error or "")
    if not m:
        return None
    return {
        "before": error[: m.start()],
        "node": m["node"],
        "command": m["command"],
        "outcome": m["outcome"],
        "after": error[m.end() :],
    }


def _files(session_path: str, folder: str, nodes: list[str]) -> dict:
    """The test folder's files, sorted into plots, logs, service logs and other files."""
    found: dict = {"data_file": "", "plots": [], "test_logs": [], "service_logs": [], "files": []}
    root = os.path.join(session_path, folder)
    if not folder or not os.path.isdir(root):
        return found
    by_service_node: dict[tuple[str, str], list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        if not parts:
            dirnames[:] = sorted(d for d in dirnames if not re.fullmatch(r"attempt-\d+", d))
        else:
            dirnames.sort()
        for name in sorted(filenames):
            rel = os.path.join(folder, rel_dir, name) if parts else os.path.join(folder, name)
            if not parts and name == DATA_FILE:
                found["data_file"] = rel
            elif not parts and name.startswith("test_log."):
                found["test_logs"].append(rel)
            elif name.endswith(".png"):
                found["plots"].append(rel)
            elif len(parts) >= 2 and parts[1] in nodes:
                by_service_node.setdefault((parts[0], parts[1]), []).append(rel)
            else:
                found["files"].append(rel)
    found["service_logs"] = [{"service": s, "node": n, "files": f} for (s, n), f in sorted(by_service_node.items())]
    return found


def test_view(session_path: str, r: TestResult) -> dict:
    """Everything the page shows of one test besides its TestResult fields."""
    figs = [
        {
            "name": name or "(value)",
            "value": f.value,
            "unit": f.unit,
            "better": f.better,
            "values": f.values,
            "low": f.low,
            "high": f.high,
            "stable": f.stable,
        }
        for name, f in figures(r.data).items()
    ]
    return {"figures": figs, "failure": failure(r.error), **_files(session_path, r.folder, r.nodes)}


def comparison(session_path: str) -> dict | None:
    """The comparison ``invoke compare`` wrote into the session, if any."""
    path = os.path.join(session_path, COMPARISON_JSON)
    doc = read_json_or_skip(path)
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        warn_skipped(path, "not a comparison")
        return None
    for side in ("old", "new"):  # written by an earlier version: one session a side, no verdicts
        if isinstance(doc.get(side), str):
            doc[side] = [doc[side]]
    doc.setdefault("confidence", 0.95)
    doc.setdefault("basis", "repeats")
    for row in doc["rows"]:
        for key, default in (("verdict", ""), ("p_value", None), ("old_values", []), ("new_values", [])):
            row.setdefault(key, default)
    png = os.path.join(session_path, COMPARISON_PLOT)
    doc["plot"] = COMPARISON_PLOT if os.path.exists(png) else ""
    return doc


def session_view(session: SessionInfo, results: list[TestResult], entries: dict | None = None) -> dict:
    """The session as report.json carries it and report.html shows it. ``entries`` keeps each
    test's part between calls (by result, which must not change once given here)."""
    entries = {} if entries is None else entries

    def entry(r: TestResult) -> dict:
        kept = entries.get(id(r))
        if kept is None or kept[0] is not r:
            kept = entries[id(r)] = (r, {**r.to_dict(), **test_view(session.path, r)})
        return kept[1]

    builds, versions = session_uses(results)
    return {
        "session_id": session.session_id,
        "cluster": session.cluster,
        "started": session.started,
        "finished": session.finished,
        "interrupted": session.interrupted,
        "headline": headline(session, results),
        "summary": dict(counts(results), total=len(results)),
        "build": used_label(session.build_manifest, builds, versions),
        "builds_used": builds,
        "versions": versions,
        "build_manifest": session.build_manifest,
        "params": session.params,
        "selection": session.selection,
        "tests": [entry(r) for r in results],
        "comparison": comparison(session.path),
    }
