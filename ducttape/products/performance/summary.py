"""Repeated load-generator runs of the native and REST paths: their summary and their plots."""

from __future__ import annotations

import statistics
from types import MappingProxyType
from typing import Iterable

PATHS = ("native", "rest")
UNITS = MappingProxyType({
    "target_records_per_sec": "records/s", "records": "records", "records_unsent": "records",
    "records_per_sec": "records/s",
    "mbps": "MB/s", "total_mb": "MB", "latency_avg_ms": "ms", "latency_50th_ms": "ms",
    "latency_95th_ms": "ms", "latency_99th_ms": "ms", "latency_999th_ms": "ms",
    "latency_max_ms": "ms"})
PERCENTILES = (("latency_50th_ms", "p50", "-"), ("latency_99th_ms", "p99", "--"),
               ("latency_999th_ms", "p99.9", ":"))
COLORS = MappingProxyType({"native": "tab:blue", "rest": "tab:orange"})


def summarize(runs: list[dict], keys: Iterable[str] = UNITS) -> dict:
    """The figures of repeated runs: for each of ``keys`` the runs have, the median with its unit
    (``{"value", "unit"}``), and under ``range`` the min and max; ``repeats`` is the run count."""
    summary: dict = {}
    spread: dict = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            summary[key] = {"value": statistics.median(values), "unit": UNITS[key]}
            spread[key] = [min(values), max(values)]
    return {**summary, "range": spread, "repeats": len(runs)}


def fell_behind(entry: dict) -> bool:
    """Whether a repeat of an at-rate summary fell behind its offered load: records were left
    unsent, so its latencies are lower bounds."""
    return entry["range"].get("records_unsent", [0, 0])[1] > 0


def plot_latency(path: str, data: dict, title: str) -> None:
    """Latency percentiles against the achieved rate at each offered load (joined in the order of
    the offered loads), both paths, with each path's maximum throughput as a vertical line; both
    axes logarithmic (the paths' rates may differ a hundredfold). A load a path fell behind is
    drawn hollow: its latencies are lower bounds. Saved as a PNG at ``path``."""
    fig, ax = _figure(1)
    behind_drawn = False
    for name in PATHS:
        points = sorted(data[name]["at_rate"], key=lambda e: e["target_records_per_sec"]["value"])
        x = [e["records_per_sec"]["value"] for e in points]
        behind = [fell_behind(e) for e in points]
        for key, label, style in PERCENTILES:
            y = [e[key]["value"] for e in points]
            ax.plot(x, y, style, marker="o", color=COLORS[name], label=f"{name} {label}")
            lower = [(a, b) for a, b, fell in zip(x, y, behind, strict=True) if fell]
            if lower:
                ax.plot(*zip(*lower, strict=True), "o", markerfacecolor="white", color=COLORS[name],
                        label=None if behind_drawn else "fell behind: at least this")
                behind_drawn = True
        ax.axvline(data[name]["max"]["records_per_sec"]["value"], color=COLORS[name], alpha=0.4,
                   label=f"{name} max throughput")
    ax.set(xlabel="achieved records/s (at offered loads)", ylabel="latency per record, ms",
           xscale="log", yscale="log")
    ax.set_title(title, fontsize="medium")
    _save(fig, ax, path)


def plot_sweep(path: str, data: dict, title: str) -> None:
    """Maximum throughput and latency at the sweep's offered load against records per request
    (REST), the native path as horizontal lines; saved as a PNG at ``path``."""
    fig, (left, right) = _figure(2)
    rows = data["rest"]
    x = [r["records_per_request"] for r in rows]
    left.plot(x, [r["max"]["records_per_sec"]["value"] for r in rows], "-o", color=COLORS["rest"], label="rest max")
    left.axhline(data["native"]["max"]["records_per_sec"]["value"], color=COLORS["native"], label="native max")
    left.set(xscale="log", yscale="log", xlabel="REST records per request", ylabel="max records/s")
    for key, label, style in PERCENTILES[:2]:
        right.plot(x, [r["at_rate"][key]["value"] for r in rows], style, marker="o", color=COLORS["rest"],
                   label=f"rest {label}")
        right.axhline(data["native"]["at_rate"][key]["value"], linestyle=style, color=COLORS["native"],
                      label=f"native {label}")
    right.set(xscale="log", yscale="log", xlabel="REST records per request",
              ylabel=f"latency per record at {data['sweep_rate']:,} records/s, ms")
    left.legend(fontsize="small")
    fig.suptitle(title, fontsize="medium")
    _save(fig, right, path)


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
