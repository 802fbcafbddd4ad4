"""Figures: the numbers a test returns, with their unit, repeats and better direction.

A figure is any number in a test's returned data (nested keys joined with dots, list items by
index). A dict ``{"value": 12.5, "unit": "ms"}`` is one figure with its unit; it may declare
``"better": "lower"`` or ``"higher"``, may carry its repeats as ``"values": [...]`` (then
``value``, when absent, is their median), and the confidence interval of its median as
``"low"``/``"high"`` with ``"stable": false`` when the repeats ended before that interval was as
narrow as asked (ducttape.runner.stability). Without a declaration the unit decides: rates
(``records/s``, ``MB/s``, ...) are better higher, durations (``ms``, ``s``, ...) better lower;
any other unit is neutral.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Iterable, TypeGuard

HIGHER, LOWER, NEUTRAL = "higher", "lower", ""
DURATION_UNITS = {"ns", "us", "µs", "ms", "s", "sec", "min", "h"}
RATE_UNITS = {"bps", "kbps", "Mbps", "Gbps", "rps", "qps", "tps", "ops"}


@dataclass
class Figure:
    """One returned figure: its (median) value, unit, better direction, repeats, and the interval
    of its median (``low``, ``high``; None when not given) with whether it is ``stable``."""

    value: float
    unit: str = ""
    better: str = NEUTRAL
    values: list[float] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    stable: bool | None = None

    def __post_init__(self):
        if not self.values:
            self.values = [self.value]

    @property
    def band(self) -> tuple[float, float] | None:
        """What to draw around the value: the interval when there is one, else the min-max of
        the repeats when there are several, else None."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        return (min(self.values), max(self.values)) if len(self.values) > 1 else None


def better_direction(unit: str, declared: object = None) -> str:
    """``higher``, ``lower`` or ``""`` (neutral) for a figure of ``unit``; a declaration wins."""
    if declared in (HIGHER, LOWER):
        return declared
    unit = unit.strip()
    if unit.endswith(("/s", "/sec")) or unit in RATE_UNITS:
        return HIGHER
    if unit in DURATION_UNITS:
        return LOWER
    return NEUTRAL


def _number(x: object) -> TypeGuard[int | float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _as_figure(data: dict) -> Figure | None:
    """The figure a ``{"value"/"values", "unit", "better", "low", "high", "stable"}`` dict stands
    for, else None."""
    if not set(data) <= {"value", "values", "unit", "better", "low", "high", "stable"} or "unit" not in data:
        return None
    values = data.get("values")
    if values is not None:
        if not isinstance(values, list) or not values or not all(_number(v) for v in values):
            return None
        values = [float(v) for v in values]
    value = data.get("value", statistics.median(values) if values else None)
    if not _number(value):
        return None
    unit = str(data["unit"])
    low, high = data.get("low"), data.get("high")
    if not (_number(low) and _number(high) and low <= high):  # type: ignore[operator]
        low = high = None
    stable = data.get("stable") if isinstance(data.get("stable"), bool) else None
    return Figure(
        float(value), unit, better_direction(unit, data.get("better")), values or [], low=low, high=high, stable=stable
    )


def figures(data: object, prefix: str = "") -> dict[str, Figure]:
    """Every figure in ``data`` by its dotted path."""
    if isinstance(data, bool):
        return {}
    if isinstance(data, (int, float)):
        return {prefix: Figure(float(data))} if math.isfinite(data) else {}
    if isinstance(data, dict):
        figure = _as_figure(data)
        if figure is not None:
            return {prefix: figure}
        items: Iterable[tuple[object, object]] = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return {}
    found = {}
    for key, value in items:
        found.update(figures(value, f"{prefix}.{key}" if prefix else str(key)))
    return found
