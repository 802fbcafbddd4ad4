"""Repeated load-generator runs of the native and REST paths: their summary and their plots."""

from __future__ import annotations

from types import MappingProxyType
from typing import Iterable

from ducttape.runner.stability import Target, estimate

PATHS = ("native", "rest")
UNITS = MappingProxyType(
    {
        "target_records_per_sec": "records/s",
        "records": "records",
        "records_unsent": "records",
        "records_per_sec": "records/s",
        "mbps": "MB/s",
        "total_mb": "MB",
        "latency_avg_ms": "ms",
        "latency_50th_ms": "ms",
        "latency_95th_ms": "ms",
        "latency_99th_ms": "ms",
        "latency_999th_ms": "ms",
        "latency_max_ms": "ms",
    }
)
PERCENTILES = (("latency_50th_ms", "p50", "-"), ("latency_99th_ms", "p99", "--"), ("latency_999th_ms", "p99.9", ":"))
COLORS = MappingProxyType({"native": "tab:blue", "rest": "tab:orange"})
KEPT_UP = 0.97
"""A load whose achieved rate (median) is below this fraction of the offered rate fell behind."""


def summarize(
    runs: list[dict], keys: Iterable[str] = UNITS, target: Target | None = None, stable: bool | None = None
) -> dict:
    """The figures of repeated runs: for each of ``keys`` the runs have, its median with its unit,
    every repeat under ``values`` and the interval of the median as ``low``/``high`` with whether
    it is within ``target``'s width (ducttape.runner.stability); ``repeats`` is the run count,
    ``stable`` (when given) whether the repeats ended with the judged figures stable."""
    target = target or Target()
    summary: dict = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            summary[key] = estimate(values, target.width_pct, target.level).figure(UNITS[key])
    return {**summary, "repeats": len(runs), **({} if stable is None else {"stable": stable})}


def fell_behind(entry: dict) -> bool:
    """Whether an at-rate summary fell behind its offered load: its median achieved rate is below
    KEPT_UP of the offered one, or a repeat left records unsent (its latencies are then lower
    bounds)."""
    unsent = entry.get("records_unsent", {}).get("values", [0])
    offered = entry.get("target_records_per_sec", {}).get("value")
    return max(unsent) > 0 or bool(offered and entry["records_per_sec"]["value"] < KEPT_UP * offered)


def suspect(points: list[dict], key: str = "latency_99th_ms") -> list[tuple[float, float]]:
    """The pairs of offered loads ``(lower, higher)`` of one path's at-rate summaries where
    figure ``key`` at the higher load lies wholly below its interval at the lower one: latency
    that drops as the load rises by more than the intervals allow."""
    ordered = sorted(points, key=lambda e: e["target_records_per_sec"]["value"])
    return [
        (a["target_records_per_sec"]["value"], b["target_records_per_sec"]["value"])
        for i, a in enumerate(ordered)
        for b in ordered[i + 1 :]
        if b[key]["high"] < a[key]["low"]
    ]


def interval(figure: dict) -> str:
    """``median [low, high]`` of a figure, with ``unstable`` when its interval is wider than asked."""
    return f"{_num(figure['value'])} [{_num(figure['low'])}, {_num(figure['high'])}]" + (
        "" if figure.get("stable", True) else " unstable"
    )


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.3g}" if abs(x) < 10 else f"{x:,.1f}"


def plot_latency(path: str, data: dict, title: str) -> None:
    """Latency percentiles against the achieved rate at each offered load (joined in the order of
    the offered loads), both paths, each point with the interval of its median as error bars, and
    each path's maximum throughput (solid) and maximum sustainable rate (dashed) as vertical
    lines; both axes logarithmic (the paths' rates may differ a hundredfold). A load a path fell
    behind is drawn hollow (its latencies may be lower bounds); a path whose p99 falls as the load
    rises by more than its intervals allow is named suspect in the legend. Saved as a PNG."""
    fig, ax = _figure(1)
    behind_drawn = False
    for name in PATHS:
        points = sorted(data[name]["at_rate"], key=lambda e: e["target_records_per_sec"]["value"])
        x = [e["records_per_sec"]["value"] for e in points]
        xerr = _errors([e["records_per_sec"] for e in points])
        behind = [fell_behind(e) for e in points]
        for key, label, style in PERCENTILES:
            y = [e[key]["value"] for e in points]
            flag = " (suspect: falls as the load rises)" if key == "latency_99th_ms" and suspect(points) else ""
            ax.errorbar(
                x,
                y,
                yerr=_errors([e[key] for e in points]),
                xerr=xerr,
                fmt=style,
                marker="o",
                color=COLORS[name],
                capsize=2,
                label=f"{name} {label}{flag}",
            )
            lower = [(a, b) for a, b, fell in zip(x, y, behind, strict=True) if fell]
            if lower:
                ax.plot(
                    *zip(*lower, strict=True),
                    "o",
                    markerfacecolor="white",
                    color=COLORS[name],
                    label=None if behind_drawn else "fell behind (achieved < 97%)",
                )
                behind_drawn = True
        ax.axvline(
            data[name]["max"]["records_per_sec"]["value"], color=COLORS[name], alpha=0.4, label=f"{name} max throughput"
        )
        sustained = data[name].get("sustainable", {}).get("records_per_sec")
        if sustained and sustained["value"] > 0:
            ax.axvline(
                sustained["value"], color=COLORS[name], alpha=0.6, linestyle="--", label=f"{name} max sustainable"
            )
    ax.set(xlabel="achieved records/s (at offered loads)", ylabel="latency per record, ms", xscale="log", yscale="log")
    ax.set_title(title, fontsize="medium")
    _save(fig, ax, path)


def plot_sweep(path: str, data: dict, title: str) -> None:
    """Maximum throughput and latency at the sweep's offered load against records per request
    (REST), with the intervals of their medians as error bars, the native path as horizontal
    lines; saved as a PNG at ``path``."""
    fig, (left, right) = _figure(2)
    rows = data["rest"]
    x = [r["records_per_request"] for r in rows]
    left.errorbar(
        x,
        [r["max"]["records_per_sec"]["value"] for r in rows],
        yerr=_errors([r["max"]["records_per_sec"] for r in rows]),
        fmt="-o",
        capsize=2,
        color=COLORS["rest"],
        label="rest max",
    )
    left.axhline(data["native"]["max"]["records_per_sec"]["value"], color=COLORS["native"], label="native max")
    left.set(xscale="log", yscale="log", xlabel="REST records per request", ylabel="max records/s")
    for key, label, style in PERCENTILES[:2]:
        right.errorbar(
            x,
            [r["at_rate"][key]["value"] for r in rows],
            yerr=_errors([r["at_rate"][key] for r in rows]),
            fmt=style,
            marker="o",
            capsize=2,
            color=COLORS["rest"],
            label=f"rest {label}",
        )
        right.axhline(
            data["native"]["at_rate"][key]["value"], linestyle=style, color=COLORS["native"], label=f"native {label}"
        )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="REST records per request",
        ylabel=f"latency per record at {data['sweep_rate']:,} records/s, ms",
    )
    left.legend(fontsize="small")
    fig.suptitle(title, fontsize="medium")
    _save(fig, right, path)


def _errors(figures: list[dict]) -> list[list[float]]:
    """Error bars (below, above) of figures from their intervals."""
    return [[f["value"] - f["low"] for f in figures], [f["high"] - f["value"] for f in figures]]


def _figure(columns: int):
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    fig = Figure(figsize=(6.5 * columns + 2, 4.5))
    axes = fig.subplots(1, columns)
    return fig, axes


def _save(fig, ax, path: str) -> None:
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
