"""results/index.html: every session under a results folder, and a trend plot per figure.

Rewritten at the end of every session (and by ``invoke compare``). A trend has one point per
session that returned the figure (median, with the min-max of its repeats), labelled with the
session and its build; a point that moved more than the threshold from the one before is ringed,
and change points (ducttape.runner.history) are drawn as dashed lines between two sessions,
green when better, red when worse. Plots go to ``results/trends/``, named after what they show,
so a trend that did not change is not drawn again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict

from ducttape.runner.files import write_atomic
from ducttape.runner.history import (ChangePoint, Series, all_series, build_label, change_points, jumps,
                                     load_sessions)
from ducttape.runner.reports.html import environment
from ducttape.runner.reports.summary import params_line

INDEX, INDEX_JSON, TRENDS = "index.html", "index.json", "trends"
THRESHOLD = 10.0
"""A point is ringed when it moved more than this many percent from the session before."""
COLORS = {"better": "#1a7f37", "worse": "#c62828", "changed": "#e08a00"}
STALE_S = 600


def _plot_name(series: Series, cps: list[ChangePoint]) -> str:
    """The trend's file name: readable, and changing whenever what the plot shows changes (so an
    unchanged trend is not drawn again)."""
    text = f"{series.test_id}--{series.figure}"
    shown = json.dumps([series.unit, series.better, [asdict(p) for p in series.points],
                        [cp.to_dict() for cp in cps], THRESHOLD], sort_keys=True, default=str)
    digest = hashlib.sha1(shown.encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', text)[:80]}-{digest}.png"


def _remove_unused(folder: str, used: set[str]) -> None:
    """Delete trend plots no index refers to any more (old enough not to be a concurrent
    session's fresh plot)."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.endswith(".png") and name not in used and time.time() - os.path.getmtime(path) > STALE_S:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass


def plot_trend(series: Series, cps: list[ChangePoint], path: str) -> None:
    """A PNG of one figure over the sessions, written atomically."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = series.points
    xs = list(range(len(pts)))
    fig, ax = plt.subplots(figsize=(max(6.5, 0.55 * len(pts) + 3), 3.6))
    low = [p.value - min(p.values) for p in pts]
    high = [max(p.values) - p.value for p in pts]
    ax.errorbar(xs, [p.value for p in pts], yerr=[low, high], fmt="o-", color="#3465a4", ecolor="#9bb3d6",
                capsize=3, linewidth=1.2, markersize=5, label="median, min-max of repeats")
    for i, pct in jumps(series, THRESHOLD):
        ax.plot([i], [pts[i].value], "o", markersize=13, markerfacecolor="none", markeredgecolor="#e08a00",
                markeredgewidth=1.5)
        ax.annotate(f"{pct:+.0f}%", (i, pts[i].value), textcoords="offset points", xytext=(0, 10),
                    ha="center", fontsize=7, color="#e08a00")
    for cp in cps:
        color = COLORS[cp.verdict]
        ax.axvline(cp.index - 0.5, color=color, linestyle="--", linewidth=1.5)
        ax.text(cp.index - 0.45, 0.97, f"change point {cp.change_pct:+.1f}% ({cp.verdict})", color=color,
                fontsize=7, va="top", transform=ax.get_xaxis_transform())
    labels = [f"{p.session_id}\n{p.build or 'no build'}" + (f"\n{params_line(p.params)}" if p.params else "")
              for p in pts]
    ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel(series.unit)
    better = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(series.better, "")
    unit = f" ({series.unit})" if series.unit else ""
    ax.set_title(f"{series.test_id.split('::')[-1]}: {series.figure}{unit}{better}", fontsize=8)
    ax.grid(axis="y", color="#eeeeee")
    fig.tight_layout()
    tmp = f"{path}.{os.getpid()}.tmp.png"
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


def index_view(results_root: str) -> dict:
    """Sessions (newest first) and trends, as index.html shows them; writes the trend plots."""
    sessions = load_sessions(results_root)
    rows = [{"session_id": d["session_id"], "report": f"{os.path.basename(d['path'])}/report.html",
             "started": d.get("started"), "finished": d.get("finished"), "cluster": d.get("cluster", ""),
             "build": build_label(d.get("build_manifest")), "params": d.get("params") or {},
             "summary": d.get("summary") or {}, "interrupted": d.get("interrupted", False)}
            for d in reversed(sessions)]
    folder = os.path.join(results_root, TRENDS)
    os.makedirs(folder, exist_ok=True)
    trends, used = [], set()
    for series in all_series(sessions):
        cps = change_points(series)
        name = _plot_name(series, cps)
        used.add(name)
        plot = f"{TRENDS}/{name}"
        if not os.path.exists(os.path.join(folder, name)):
            plot_trend(series, cps, os.path.join(folder, name))
        trends.append({"test_id": series.test_id, "figure": series.figure, "unit": series.unit,
                       "better": series.better, "plot": plot, "points": len(series.points),
                       "jumps": [{"session_id": series.points[i].session_id, "change_pct": pct}
                                 for i, pct in jumps(series, THRESHOLD)],
                       "change_points": [dict(cp.to_dict(), text=cp.describe()) for cp in cps]})
    _remove_unused(folder, used)
    return {"sessions": rows, "trends": trends, "threshold_pct": THRESHOLD}


def write_index(results_root: str) -> str:
    """(Re)write ``results_root/index.html`` and ``index.json`` (the same, for programs)
    atomically; return the page's path."""
    view = index_view(results_root)
    page = environment(results_root).get_template("index.html.j2").render(ix=view)
    for name, text in ((INDEX_JSON, json.dumps(view, indent=2, default=str) + "\n"), (INDEX, page)):
        write_atomic(os.path.join(results_root, name), text)
    return os.path.join(results_root, INDEX)
