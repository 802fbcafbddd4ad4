"""Comparing sessions' returned figures, spread-aware: a table, a JSON file and a plot.

Each side is one session or several (e.g. several sessions of the same build). When both sides
have several sessions, the sessions are the repeats: each contributes its median, so the
comparison sees how much whole sessions vary (on a shared machine they drift together with the
load far more than the repeats inside one session do). Otherwise a figure's values on a side are
its repeats inside the session(s) (see ducttape.runner.figures). When a figure of one session
on each side carries the confidence interval of its median (ducttape.runner.stability), the
intervals judge: a change is flagged only when they do not overlap and the medians differ by more
than the minimum effect. Otherwise a change is flagged only when both sides have repeats, a
two-sided Mann-Whitney U test finds the two samples different at the stated confidence, and the
medians differ by more than the minimum effect. Flagged changes are ``better`` or ``worse`` by
the figure's direction (``changed`` when neutral).
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import asdict, dataclass, field

from tabulate import tabulate

from ducttape.errors import ConfigError
from ducttape.runner.files import write_atomic
from ducttape.runner.figures import Figure, figures
from ducttape.runner.history import verdict as direction_verdict
from ducttape.runner.reports import write_reports
from ducttape.runner.reports.view import COMPARISON_JSON as JSON, COMPARISON_PLOT as PLOT
from ducttape.runner.result import SessionInfo, TestResult

DEFAULT_THRESHOLD = 5.0
"""Minimum effect: a change of the median below this many percent is never flagged."""
DEFAULT_CONFIDENCE = 0.95
TEXT = "comparison.txt"
FLAGGED = ("better", "worse", "changed")
NOT_JUDGED = "single run, not judged"
COLORS = {"better": "#0072B2", "worse": "#D55E00", "changed": "#E69F00"}
"""Okabe and Ito's blue, vermillion and orange: told apart with the common colour-vision
deficiencies (the verdict is written beside each too)."""
NEUTRAL_COLOR = "#8a8a8a"


@dataclass
class Row:
    test_id: str
    figure: str
    unit: str
    old: float | None
    new: float | None
    change_pct: float | None
    flagged: bool
    better: str = ""
    verdict: str = ""
    p_value: float | None = None
    old_values: list[float] = field(default_factory=list)
    new_values: list[float] = field(default_factory=list)
    basis: str = "repeats"
    """What the values are: ``repeats`` inside the sessions, or the medians of ``sessions``."""
    old_interval: list[float] | None = None
    new_interval: list[float] | None = None
    """The interval of each side's median, when its one session gave one."""


def resolve(results_root: str, ref: str) -> str:
    """A session folder from a path, a session id under ``results_root``, or ``latest``."""
    for path in (ref, os.path.join(results_root, ref)):
        if os.path.isfile(os.path.join(path, "report.json")):
            return os.path.realpath(path)
    raise ConfigError(
        f"no session {ref!r}: expected a session folder with report.json, or a session id under {results_root}"
    )


def resolve_many(results_root: str, refs: str) -> list[str]:
    """Session folders from a comma-separated list of session references."""
    paths = [resolve(results_root, ref.strip()) for ref in refs.split(",") if ref.strip()]
    if not paths:
        raise ConfigError(f"no session named in {refs!r}: give session ids, folders or 'latest'")
    return paths


def load_session(path: str) -> tuple[SessionInfo, list[TestResult]]:
    """Read a session back from its report.json."""
    try:
        with open(os.path.join(path, "report.json")) as f:
            doc = json.load(f)
        info = SessionInfo(
            doc["session_id"],
            path,
            doc["cluster"],
            doc["started"],
            doc["finished"],
            doc["interrupted"],
            doc.get("build_manifest"),
            doc.get("params") or {},
        )
        keys = TestResult.__dataclass_fields__
        return info, [TestResult(**{k: v for k, v in t.items() if k in keys}) for t in doc["tests"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read {path}/report.json: {exc}") from None


def pooled(paths: list[str], per_session: bool = False) -> dict[str, dict[str, Figure]]:
    """Figures by test and name over ``paths``; each figure's values are all its repeats, or with
    ``per_session`` one value (the median) from each session."""
    found: dict[str, dict[str, Figure]] = {}
    for path in paths:
        for r in load_session(path)[1]:
            for name, fig in figures(r.data).items():
                values = [fig.value] if per_session else fig.values
                have = found.setdefault(r.test_id, {}).get(name)
                if have is None:
                    found[r.test_id][name] = Figure(
                        fig.value,
                        fig.unit,
                        fig.better,
                        list(values),
                        *((None, None) if per_session else (fig.low, fig.high)),
                    )
                else:  # pooled over sessions: no one session's interval stands for them
                    have.values.extend(values)
                    have.low = have.high = None
    for figs in found.values():
        for fig in figs.values():
            fig.value = statistics.median(fig.values)
    return found


def min_p_value(n: int, m: int) -> float:
    """The smallest two-sided p-value an exact Mann-Whitney U test of n and m values can give."""
    return min(1.0, 2 / math.comb(n + m, n))


def judge(a: Figure | None, b: Figure | None, threshold: float, confidence: float, basis: str = "repeats") -> Row:
    """One figure's comparison (``test_id`` and ``figure`` are filled in by the caller)."""
    fig = b or a
    if fig is None:
        raise ValueError("judge needs the figure on at least one side")
    row = Row(
        "",
        "",
        fig.unit,
        a.value if a else None,
        b.value if b else None,
        None,
        False,
        fig.better,
        old_values=a.values if a else [],
        new_values=b.values if b else [],
        basis=basis,
        old_interval=_interval(a),
        new_interval=_interval(b),
    )
    if a is None or b is None:
        row.verdict = "only in new" if a is None else "only in old"
        return row
    if a.value != 0 or b.value == 0:
        row.change_pct = 0.0 if a.value == b.value else (b.value - a.value) / abs(a.value) * 100
    if row.old_interval and row.new_interval:
        (a_low, a_high), (b_low, b_high) = row.old_interval, row.new_interval
        different, same, apart = not (a_low <= b_high and b_low <= a_high), "intervals overlap", "intervals apart"
    else:
        n, m = len(a.values), len(b.values)
        if n < 2 or m < 2:
            row.verdict = NOT_JUDGED
            return row
        if min_p_value(n, m) > 1 - confidence:
            row.verdict = f"too few {row.basis} ({n} vs {m}) for {confidence:.0%}"
            return row
        from scipy.stats import mannwhitneyu

        row.p_value = float(mannwhitneyu(a.values, b.values, alternative="two-sided").pvalue)
        different, same, apart = row.p_value < 1 - confidence, "no significant change", "significant"
    if row.change_pct is None:
        row.verdict = "changed from zero"
    elif not different:
        row.verdict = same
    elif abs(row.change_pct) <= threshold:
        row.verdict = f"{apart} but within {threshold:g}%"
    else:
        row.verdict = direction_verdict(row.change_pct, fig.better)
        row.flagged = True
    return row


def _interval(fig: Figure | None) -> list[float] | None:
    return [fig.low, fig.high] if fig is not None and fig.low is not None and fig.high is not None else None


def compare(
    old_paths: list[str] | str,
    new_paths: list[str] | str,
    threshold: float = DEFAULT_THRESHOLD,
    confidence: float = DEFAULT_CONFIDENCE,
) -> list[Row]:
    """Rows of every figure of every test present on either side."""
    old_paths = [old_paths] if isinstance(old_paths, str) else old_paths
    new_paths = [new_paths] if isinstance(new_paths, str) else new_paths
    per_session = len(old_paths) > 1 and len(new_paths) > 1
    old, new = pooled(old_paths, per_session), pooled(new_paths, per_session)
    rows = []
    for test_id in list(dict.fromkeys([*old, *new])):
        a, b = old.get(test_id, {}), new.get(test_id, {})
        for name in list(dict.fromkeys([*a, *b])):
            row = judge(a.get(name), b.get(name), threshold, confidence, "sessions" if per_session else "repeats")
            row.test_id, row.figure = test_id, name
            rows.append(row)
    return rows


def render_table(rows: list[Row], threshold: float, confidence: float = DEFAULT_CONFIDENCE) -> str:
    def num(v):
        return "" if v is None else f"{v:.6g}"

    def spread(values, interval):
        if interval:
            return f"{len(values)}: [{interval[0]:.4g}, {interval[1]:.4g}]"
        return f"{len(values)}: {min(values):.4g}-{max(values):.4g}" if len(values) > 1 else ""

    table = [
        (
            r.test_id,
            r.figure + (f" ({r.unit})" if r.unit else ""),
            num(r.old),
            spread(r.old_values, r.old_interval),
            num(r.new),
            spread(r.new_values, r.new_interval),
            "" if r.change_pct is None else f"{r.change_pct:+.1f}%",
            "" if r.p_value is None else f"{r.p_value:.3g}",
            r.verdict + (" <<" if r.flagged else ""),
        )
        for r in rows
    ]
    flagged = [r for r in rows if r.flagged]
    worse = sum(r.verdict == "worse" for r in flagged)
    basis = "sessions (one median each)" if rows and rows[0].basis == "sessions" else "repeats"
    return (
        tabulate(
            table,
            headers=("test", "figure", "old", basis.split()[0], "new", basis.split()[0], "change", "p", "verdict"),
        )
        + f"\n\n{len(rows)} figures; {len(flagged)} changed ({worse} worse): significant at "
        f"{confidence:.0%} (Mann-Whitney U over the {basis}, or [intervals] of the median apart) and "
        f"more than {threshold:g}%; "
        f"{sum(r.verdict == NOT_JUDGED for r in rows)} single runs not judged\n"
    )


def plot(rows: list[Row], threshold: float, path: str, title: str) -> None:
    """A PNG of each figure's old and new spread (the interval of the median when given, else
    the min-max; median dot) relative to the old median, coloured by verdict; the band is the
    minimum effect."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(r, r.old, r.new) for r in rows if r.old and r.new is not None]
    labels = [f"{r.test_id.split('::')[-1]}: {r.figure}" + (f" ({r.unit})" if r.unit else "") for r, _, _ in shown]
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.45 * len(shown) + 1.5)))
    ax.axvspan(-threshold, threshold, color="#eeeeee", zorder=0)
    ax.axvline(0, color="#333", linewidth=1)
    for i, (r, old, new) in enumerate(shown):

        def rel(v: float, old: float = old) -> float:
            return (v - old) / abs(old) * 100

        color = COLORS.get(r.verdict, NEUTRAL_COLOR) if r.flagged else NEUTRAL_COLOR
        old_band = r.old_interval or [min(r.old_values), max(r.old_values)]
        new_band = r.new_interval or [min(r.new_values), max(r.new_values)]
        ax.plot([rel(v) for v in old_band], [i - 0.15] * 2, color="#b0b0b0", linewidth=3)
        ax.plot([rel(v) for v in new_band], [i + 0.15] * 2, color=color, linewidth=3)
        ax.plot([rel(new)], [i + 0.15], "o", color=color)
        ax.text(1.01, i, r.verdict, transform=ax.get_yaxis_transform(), va="center", fontsize=7, color=color)
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(
        f"relative to the old median (%): grey = old [interval] or min-max, colour = new and its median; "
        f"band = ±{threshold:g}%",
        fontsize=8,
    )
    ax.set_title(title, fontsize=10)
    if not shown:
        ax.text(0.5, 0.5, "no figure present on both sides", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def side_name(ids: list[str]) -> str:
    """A short name for one side of a comparison: its session, or its first and last."""
    return ids[0] if len(ids) == 1 else f"{len(ids)} sessions {ids[0]} .. {ids[-1]}"


def write_comparison(
    old_paths: list[str],
    new_paths: list[str],
    threshold: float = DEFAULT_THRESHOLD,
    confidence: float = DEFAULT_CONFIDENCE,
) -> list[Row]:
    """Compare, then write the table, JSON and plot into the newest session of the new side and
    re-render its reports so report.html shows them."""
    rows = compare(old_paths, new_paths, threshold, confidence)
    old_ids, new_ids = [os.path.basename(p) for p in old_paths], [os.path.basename(p) for p in new_paths]
    target = new_paths[-1]
    title = f"{side_name(old_ids)} -> {side_name(new_ids)}"
    write_atomic(os.path.join(target, TEXT), f"{title}\n\n" + render_table(rows, threshold, confidence))
    write_atomic(
        os.path.join(target, JSON),
        json.dumps(
            {
                "old": old_ids,
                "new": new_ids,
                "threshold_pct": threshold,
                "confidence": confidence,
                "basis": rows[0].basis if rows else "repeats",
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        ),
    )
    plot(rows, threshold, os.path.join(target, PLOT), title)
    info, results = load_session(target)
    write_reports(info, results)
    return rows
