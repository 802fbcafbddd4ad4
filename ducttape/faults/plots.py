"""Plots of a history like Jepsen's: throughput and latency over time, faults shaded."""

from __future__ import annotations

from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ducttape.faults.history import FAIL, INFO, OK, History

COLORS = {OK: "tab:blue", FAIL: "tab:red", INFO: "tab:orange"}
FAULT_COLORS = ["tab:gray", "tab:purple", "tab:olive", "tab:cyan", "tab:brown"]
FAULT_ALPHA = 0.18
"""Opacity of a fault's shading (the i-th fault in FAULT_COLORS[i % 5])."""


def plot_history(history: History, path: str, title: str, f: str | None = None) -> str:
    """Write a PNG to ``path``: operations per second by outcome (top) and the latency of each
    successful operation (bottom, ms, log scale) over seconds since the history began, each
    fault's interval shaded and named. ``f`` limits it to one kind of operation. Returns ``path``.
    """
    origin, last = history.span(f)
    ops = history.ops(f)
    fig, (rate_ax, latency_ax) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]}
    )
    seconds = int(last - origin) + 1
    for outcome in (OK, FAIL, INFO):
        per_second = Counter(int(r["time"] - origin) for r in ops if r["outcome"] == outcome)
        if per_second:
            xs = list(range(seconds))
            rate_ax.step(
                xs,
                [per_second.get(x, 0) for x in xs],
                where="post",
                color=COLORS[outcome],
                label=f"{outcome} /s",
                linewidth=1.2,
            )
    rate_ax.set_ylabel("operations / s")
    rate_ax.legend(loc="upper right", fontsize=8)

    timed = [r for r in ops if r["outcome"] == OK and r.get("latency") is not None]
    if timed:
        latency_ax.scatter(
            [r["time"] - origin for r in timed],
            [max(r["latency"] * 1000, 0.01) for r in timed],
            s=max(2.0, min(16.0, 4000 / len(timed))),  # sparse: bigger dots
            color=COLORS[OK],
            alpha=0.6,
            linewidths=0,
        )
        latency_ax.set_yscale("log")
    latency_ax.set_ylabel("latency (ms)")
    latency_ax.set_xlabel("seconds since start")

    for i, fault in enumerate(history.faults()):
        color = FAULT_COLORS[i % len(FAULT_COLORS)]
        end = (fault.end or last) - origin
        for ax in (rate_ax, latency_ax):
            ax.axvspan(fault.start - origin, end, color=color, alpha=FAULT_ALPHA, linewidth=0)
        rate_ax.text(
            fault.start - origin,
            1.01,
            fault.label,
            transform=rate_ax.get_xaxis_transform(),
            fontsize=8,
            color=color,
            va="bottom",
        )
    rate_ax.set_title(title, pad=16)
    rate_ax.set_xlim(0, max(seconds, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
