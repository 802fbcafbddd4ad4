"""results/index.html: every session under a results folder, and a trend chart per figure.

Rewritten at the end of every session (and by ``invoke compare`` and ``invoke history``). A
trend is one figure (with a unit) of one test over the sessions that returned it, in the order
they started: its median per session as a line, as a band the interval of that median when the
figure has one (ducttape.runner.stability), else the min-max of the session's repeats,
each point's values on hover (SVG ``<title>``), change points (ducttape.runner.trends: the test of
``invoke compare``) as dashed lines with their change and verdict. The x axis names the sessions
by the short end of their ids; builds and session parameters are listed under the chart. A figure
that the latest passing run of its test no longer returned has no chart. The page is one file
(inline SVG, CSS and a small filter script), readable offline.
"""

from __future__ import annotations

import json
import os
import re

from ducttape.runner.files import write_atomic
from ducttape.runner.history import Series, all_series, build_label, load_sessions
from ducttape.runner.reports.html import environment
from ducttape.runner.reports.summary import params_line, when
from ducttape.runner.reports.svg import Line, Mark, Point, chart, number
from ducttape.runner.trends import Change, trend_changes

INDEX, INDEX_JSON = "index.html", "index.json"
LEGACY_TRENDS = "trends"
"""Where earlier versions wrote a PNG per trend; those files are removed."""
LEGACY_PLOT = re.compile(r".+-[0-9a-f]{12}\.png")


def short_ids(ids: list[str]) -> tuple[str, list[str]]:
    """The prefix the ids share (up to a ``-``) and what is left of each, e.g.
    ``2026-12-07--001``, ``2026-12-07--002`` -> ``2026-12-07--``, ``001``, ``002``."""
    prefix = os.path.commonprefix(ids) if len(ids) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""
    if any(i == prefix for i in ids):
        prefix = ""
    return prefix, [i[len(prefix) :] for i in ids]


def _runs(values: list[str], labels: list[str]) -> list[dict]:
    """Consecutive sessions with the same value (a build, session parameters), or one entry
    ``every session`` when all are the same."""
    runs: list[dict] = []
    for value, label in zip(values, labels, strict=True):
        if runs and runs[-1]["what"] == value:
            runs[-1]["last"] = label
        else:
            runs.append({"first": label, "last": label, "what": value})
    return runs


def _differences(series: Series, labels: list[str]) -> list[dict]:
    """What the sessions ran, under the chart: the build, then the session parameters (each as
    runs of sessions, or once when every session had the same)."""
    found = []
    for what, values in (
        ("build", [p.build or "none recorded" for p in series.points]),
        ("params", [params_line(p.params) or "none" for p in series.points]),
    ):
        runs = _runs(values, labels)
        if what == "params" and runs == [{"first": labels[0], "last": labels[-1], "what": "none"}]:
            continue
        found.append({"what": what, "runs": runs})
    return found


def _describe(c: Change, series: Series, labels: list[str]) -> str:
    unit = f" {series.unit}" if series.unit else ""
    d = c.to_dict()
    return (
        f"between {labels[c.index - 1]} and {labels[c.index]}: {c.change_pct:+.1f}% ({c.verdict}); "
        f"median {number(d['median_before'])}{unit} over {d['sessions_before']} sessions "
        f"({d['repeats_before']} values) -> {number(d['median_after'])}{unit} over "
        f"{d['sessions_after']} ({d['repeats_after']}), Mann-Whitney U p = {c.p_value:.2g}"
    )


def trend_view(series: Series) -> dict:
    """One trend as index.html shows it (its SVG chart included) and index.json carries it."""
    prefix, labels = short_ids([p.session_id for p in series.points])
    changes = trend_changes(series)
    unit = f" {series.unit}" if series.unit else ""
    points = []
    for i, p in enumerate(series.points):
        spread = (
            f"; {len(p.values)} values {number(min(p.values))} – {number(max(p.values))}" if len(p.values) > 1 else ""
        )
        if p.low is not None and p.high is not None:
            spread += f"; interval [{number(p.low)}, {number(p.high)}]"
            band = (p.low, p.high)
        else:
            band = (min(p.values), max(p.values))
        params = f"; {params_line(p.params)}" if p.params else ""
        text = (
            f"{p.session_id} ({when(p.started)}): {number(p.value)}{unit}{spread}; "
            f"{p.build or 'no build recorded'}{params}"
        )
        points.append(Point(i, p.value, text, *band))
    better = {"higher": "higher is better", "lower": "lower is better"}.get(series.better, "")
    label = f"{series.test_id}: {series.figure}" + (f" ({series.unit})" if series.unit else "")
    svg = chart(
        [Line(series.figure, points)],
        list(enumerate(labels)),
        series.unit,
        [Mark(c.index - 0.5, f"{c.change_pct:+.0f}% {c.verdict}", c.verdict) for c in changes],
        label=label,
        width=560,
        height=240,
    )
    return {
        "test_id": series.test_id,
        "figure": series.figure,
        "unit": series.unit,
        "better": series.better,
        "better_text": better,
        "points": len(series.points),
        "session_prefix": prefix,
        "values": [
            {
                "session_id": p.session_id,
                "label": lab,
                "started": p.started,
                "value": p.value,
                "values": p.values,
                "low": p.low,
                "high": p.high,
                "build": p.build,
                "params": p.params,
            }
            for p, lab in zip(series.points, labels, strict=True)
        ],
        "differences": _differences(series, labels),
        "change_points": [dict(c.to_dict(), text=_describe(c, series, labels)) for c in changes],
        "svg": svg,
    }


def current(series: list[Series], sessions: list[dict]) -> list[Series]:
    """The series whose figure the latest passing (or flaky) run of its test returned."""
    latest: dict[str, str] = {}
    for doc in sessions:
        for test in doc.get("tests", []):
            if test.get("status") in ("PASS", "FLAKY"):
                latest[test["test_id"]] = doc["session_id"]
    return [s for s in series if s.points[-1].session_id == latest.get(s.test_id)]


def _remove_legacy_plots(results_root: str) -> None:
    """Delete the trend PNGs earlier versions wrote (and their folder once it is empty)."""
    folder = os.path.join(results_root, LEGACY_TRENDS)
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if LEGACY_PLOT.fullmatch(name):
            try:
                os.remove(os.path.join(folder, name))
            except FileNotFoundError:
                pass
    try:
        os.rmdir(folder)
    except OSError:
        pass


def index_view(results_root: str) -> dict:
    """Sessions (newest first) and trends, as index.html shows them."""
    sessions = load_sessions(results_root)
    rows = [
        {
            "session_id": d["session_id"],
            "report": f"{os.path.basename(d['path'])}/report.html",
            "started": d.get("started"),
            "finished": d.get("finished"),
            "cluster": d.get("cluster", ""),
            "build": d.get("build", build_label(d.get("build_manifest"))),
            "params": d.get("params") or {},
            "summary": d.get("summary") or {},
            "interrupted": d.get("interrupted", False),
        }
        for d in reversed(sessions)
    ]
    trends = [trend_view(s) for s in current(all_series(sessions), sessions)]
    return {"sessions": rows, "trends": trends}


def write_index(results_root: str) -> str:
    """(Re)write ``results_root/index.html`` and ``index.json`` (the same without the charts, for
    programs) atomically; return the page's path."""
    view = index_view(results_root)
    page = environment(results_root).get_template("index.html.j2").render(ix=view)
    data = {**view, "trends": [{k: v for k, v in t.items() if k != "svg"} for t in view["trends"]]}
    for name, text in ((INDEX_JSON, json.dumps(data, indent=2, default=str) + "\n"), (INDEX, page)):
        write_atomic(os.path.join(results_root, name), text)
    _remove_legacy_plots(results_root)
    return os.path.join(results_root, INDEX)
