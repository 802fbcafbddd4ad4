"""Comparing two sessions' returned figures: a table, a JSON file and a plot.

A figure is any number in a test's returned data (nested keys joined with dots, list items by
index); ``{"value": 12.5, "unit": "ms"}`` is a figure with its unit.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass

from tabulate import tabulate

from ducttape.errors import ConfigError
from ducttape.runner.reports import write_reports
from ducttape.runner.reports.html import COMPARISON_JSON as JSON, COMPARISON_PLOT as PLOT
from ducttape.runner.result import SessionInfo, TestResult

DEFAULT_THRESHOLD = 10.0
TEXT = "comparison.txt"


@dataclass
class Row:
    test_id: str
    figure: str
    unit: str
    old: float | None
    new: float | None
    change_pct: float | None
    flagged: bool


def figures(data: object, prefix: str = "") -> dict[str, tuple[float, str]]:
    """Every number in ``data`` by its dotted path, with its unit ('' when none is given)."""
    if isinstance(data, bool):
        return {}
    if isinstance(data, (int, float)):
        return {prefix: (float(data), "")} if math.isfinite(data) else {}
    if isinstance(data, dict):
        if set(data) == {"value", "unit"} and isinstance(data["value"], (int, float)):
            return {prefix: (float(data["value"]), str(data["unit"]))}
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return {}
    found = {}
    for key, value in items:
        found.update(figures(value, f"{prefix}.{key}" if prefix else str(key)))
    return found


def resolve(results_root: str, ref: str) -> str:
    """A session folder from a path, a session id under ``results_root``, or ``latest``."""
    for path in (ref, os.path.join(results_root, ref)):
        if os.path.isfile(os.path.join(path, "report.json")):
            return os.path.realpath(path)
    raise ConfigError(f"no session {ref!r}: expected a session folder with report.json, or a "
                      f"session id under {results_root}")


def load_session(path: str) -> tuple[SessionInfo, list[TestResult]]:
    """Read a session back from its report.json."""
    try:
        with open(os.path.join(path, "report.json")) as f:
            doc = json.load(f)
        info = SessionInfo(doc["session_id"], path, doc["cluster"], doc["started"], doc["finished"],
                           doc["interrupted"], doc.get("build_manifest"))
        return info, [TestResult(**t) for t in doc["tests"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read {path}/report.json: {exc}") from None


def compare(old_path: str, new_path: str, threshold: float = DEFAULT_THRESHOLD) -> list[Row]:
    """Rows of every figure of every test present in either session."""
    _, old_results = load_session(old_path)
    _, new_results = load_session(new_path)
    old = {r.test_id: figures(r.data) for r in old_results}
    new = {r.test_id: figures(r.data) for r in new_results}
    rows = []
    for test_id in list(dict.fromkeys([*old, *new])):
        a, b = old.get(test_id, {}), new.get(test_id, {})
        for name in list(dict.fromkeys([*a, *b])):
            (va, ua), (vb, ub) = a.get(name, (None, "")), b.get(name, (None, ""))
            change = None  # unknown when missing on one side, or from zero to non-zero
            if va is not None and vb is not None and (va != 0 or vb == 0):
                change = 0.0 if va == vb else (vb - va) / abs(va) * 100
            flagged = change is None or abs(change) > threshold
            rows.append(Row(test_id, name, ub or ua, va, vb, change, flagged))
    return rows


def render_table(rows: list[Row], threshold: float) -> str:
    def num(v):
        return "" if v is None else f"{v:.6g}"

    table = [(r.test_id, r.figure + (f" ({r.unit})" if r.unit else ""), num(r.old), num(r.new),
              "" if r.change_pct is None else f"{r.change_pct:+.1f}%",
              "<<" if r.flagged else "") for r in rows]
    flagged = sum(r.flagged for r in rows)
    return (tabulate(table, headers=("test", "figure", "old", "new", "change", ""))
            + f"\n\n{len(rows)} figures, {flagged} changed by more than {threshold:g}% or present in one session only\n")


def plot(rows: list[Row], threshold: float, path: str, title: str) -> None:
    """A PNG of each figure's relative change, flagged ones highlighted."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.change_pct is not None]
    labels = [f"{r.test_id.split('::')[-1]}: {r.figure}" for r in shown]
    height = max(2.5, 0.35 * len(shown) + 1.5)
    fig, ax = plt.subplots(figsize=(10, height))
    colors = ["#d9534f" if r.flagged else "#5b8bd0" for r in shown]
    ax.barh(range(len(shown)), [r.change_pct for r in shown], color=colors)
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.invert_yaxis()
    for x in (-threshold, threshold):
        ax.axvline(x, color="#999", linestyle="--", linewidth=1)
    ax.axvline(0, color="#333", linewidth=1)
    ax.set_xlabel("change from old to new (%)")
    ax.set_title(title, fontsize=10)
    if not shown:
        ax.text(0.5, 0.5, "no figure present in both sessions", ha="center", va="center",
                transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_comparison(old_path: str, new_path: str, threshold: float = DEFAULT_THRESHOLD) -> list[Row]:
    """Compare, then write the table, JSON and plot into the new session and re-render its
    reports so report.html shows them."""
    rows = compare(old_path, new_path, threshold)
    old_id, new_id = os.path.basename(old_path), os.path.basename(new_path)
    with open(os.path.join(new_path, TEXT), "w") as f:
        f.write(f"{old_id} -> {new_id}\n\n" + render_table(rows, threshold))
    with open(os.path.join(new_path, JSON), "w") as f:
        json.dump({"old": old_id, "new": new_id, "threshold_pct": threshold,
                   "rows": [asdict(r) for r in rows]}, f, indent=2)
    plot(rows, threshold, os.path.join(new_path, PLOT), f"{old_id} -> {new_id}")
    info, results = load_session(new_path)
    write_reports(info, results)
    return rows
