"""Small line charts as inline SVG: no script, no file, nothing fetched. Every point carries a
``<title>`` (the browser shows it on hover; screen readers read it), lines differ by colour
(Okabe and Ito's palette, readable with the common colour-vision deficiencies) and by marker
shape, and every text is placed so that it stays inside the picture."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
MARK_COLORS = {"better": "#0072B2", "worse": "#D55E00", "changed": "#7F5200"}
"""Change marks: blue and vermillion (never red against green), each with its word beside it."""
FONT_PX, CHAR_PX = 11, 6.6
"""Font size of the chart's texts, and the width budgeted per character (sans-serif digits and
lower-case letters are narrower)."""


@dataclass
class Point:
    """A point of a line: where, its hover text, and the min-max of its values when known."""

    x: float
    y: float
    title: str
    low: float | None = None
    high: float | None = None


@dataclass
class Line:
    """A named line of points (named in the legend when a chart has several)."""

    name: str
    points: list[Point] = field(default_factory=list)


@dataclass
class Mark:
    """A vertical dashed line at ``x`` with a short ``text``; ``kind`` picks its colour."""

    x: float
    text: str
    kind: str = "changed"


def number(v: float) -> str:
    """A short rendering of an axis value (4 significant digits, thousands grouped)."""
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-3:
        return f"{v:.3g}"
    digits = max(0, 3 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:,.0f}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values between ``low`` and ``high`` (about ``count`` of them)."""
    if high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _width(text: str) -> float:
    return len(text) * CHAR_PX


def chart(
    lines: list[Line],
    x_ticks: list[tuple[float, str]],
    y_label: str = "",
    marks: list[Mark] | None = None,
    label: str = "",
    width: int = 640,
    height: int = 250,
) -> str:
    """An SVG line chart of ``lines`` (each point's min-max drawn as a band when given), x ticks
    labelled as given (thinned so they never overlap), ``marks`` as dashed vertical lines with
    their text in the band above the plot. ``label`` is the chart's accessible name."""
    marks = marks or []
    points = [p for line in lines for p in line.points]
    ys = [v for p in points for v in (p.y, p.low, p.high) if v is not None] or [0.0]
    y_low, y_high = min(ys), max(ys)
    pad = (y_high - y_low) * 0.08 or abs(y_high) * 0.05 or 1.0
    y_ticks = _ticks(y_low - pad, y_high + pad)
    y_low, y_high = min(y_low - pad, y_ticks[0]), max(y_high + pad, y_ticks[-1])
    xs = [x for x, _ in x_ticks] + [p.x for p in points] + [m.x for m in marks] or [0.0]
    x_low, x_high = min(xs), max(xs)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1

    legend = len(lines) > 1
    left = max(_width(number(t)) for t in y_ticks) + 10 + (FONT_PX + 6 if y_label else 0)
    first_label = _width(x_ticks[0][1]) / 2 if x_ticks else 0
    last_label = _width(x_ticks[-1][1]) / 2 if x_ticks else 0
    left, right = max(left, first_label + 4), max(14, last_label + 4)
    top = 10 + len(marks) * (FONT_PX + 5)
    legend_rows = _legend_rows(lines, width - 20) if legend else []
    bottom = FONT_PX + 14 + len(legend_rows) * (FONT_PX + 8)
    plot_w = width - left - right
    plot_h = height - top - bottom
    if plot_h < 80:
        height += 80 - plot_h
        plot_h = 80

    def sx(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y_low) / (y_high - y_low) * plot_h

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{FONT_PX}" font-family="system-ui, sans-serif">'
    ]
    if label:
        out.append(f"<title>{escape(label)}</title>")
    for t in y_ticks:
        y = sy(t)
        out.append(f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text class="ytick" x="{left - 5:.1f}" y="{y + 4:.1f}" text-anchor="end">{number(t)}</text>')
    out.append(
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{plot_w:.1f}" height="{plot_h:.1f}" fill="none" stroke="#999"/>'
    )
    if y_label:
        cy = top + plot_h / 2
        out.append(
            f'<text class="axis" x="{FONT_PX:.1f}" y="{cy:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 {FONT_PX} {cy:.1f})">{escape(_fit(y_label, plot_h))}</text>'
        )
    shown_right = -math.inf
    for x, text in x_ticks:
        px, half = sx(x), _width(text) / 2
        if px - half < shown_right + 8:
            continue  # would overlap the label before it
        shown_right = px + half
        out.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top + plot_h:.1f}" y2="{top + plot_h + 4:.1f}" stroke="#999"/>'
        )
        out.append(
            f'<text class="xtick" x="{px:.1f}" y="{top + plot_h + FONT_PX + 5:.1f}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    for n, m in enumerate(marks):
        px, color = sx(m.x), MARK_COLORS.get(m.kind, MARK_COLORS["changed"])
        ty = 4 + (n + 1) * (FONT_PX + 5) - 5
        anchor = "start" if px + _width(m.text) + 4 <= width else "end"
        out.append(
            f'<line class="mark {escape(m.kind)}" x1="{px:.1f}" x2="{px:.1f}" y1="{ty + 3:.1f}" '
            f'y2="{top + plot_h:.1f}" stroke="{color}" stroke-width="1.6" stroke-dasharray="5 3"/>'
        )
        out.append(
            f'<text class="mark {escape(m.kind)}" x="{px + (3 if anchor == "start" else -3):.1f}" '
            f'y="{ty:.1f}" text-anchor="{anchor}" fill="{color}" font-weight="bold">{escape(m.text)}</text>'
        )
    for i, line in enumerate(lines):
        color = COLORS[i % len(COLORS)]
        pts = sorted(line.points, key=lambda p: p.x)
        ranged = [(p.x, p.low, p.high) for p in pts if p.low is not None and p.high is not None]
        if len(ranged) > 1:
            outline = [f"{sx(x):.1f},{sy(high):.1f}" for x, _, high in ranged]
            outline += [f"{sx(x):.1f},{sy(low):.1f}" for x, low, _ in reversed(ranged)]
            out.append(f'<polygon class="band" points="{" ".join(outline)}" fill="{color}" fill-opacity="0.16"/>')
        for x, low, high in ranged:
            if high != low:
                out.append(
                    f'<line class="range" x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{sy(low):.1f}" '
                    f'y2="{sy(high):.1f}" stroke="{color}" stroke-opacity="0.5" stroke-width="2"/>'
                )
        if len(pts) > 1:
            path = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        for p in pts:
            out.append(f'<g class="point">{_marker(i, sx(p.x), sy(p.y), color)}<title>{escape(p.title)}</title></g>')
    y = height - len(legend_rows) * (FONT_PX + 8) + FONT_PX
    for row in legend_rows:
        x = 10.0
        for i, name in row:
            color = COLORS[i % len(COLORS)]
            out.append(_marker(i, x + 5, y - 4, color))
            out.append(f'<text class="legend" x="{x + 13:.1f}" y="{y:.1f}">{escape(name)}</text>')
            x += 13 + _width(name) + 14
        y += FONT_PX + 8
    out.append("</svg>")
    return "\n".join(out)


def _legend_rows(lines: list[Line], room: float) -> list[list[tuple[int, str]]]:
    rows: list[list[tuple[int, str]]] = [[]]
    used = 0.0
    for i, line in enumerate(lines):
        name = _fit(line.name, room - 30)
        need = 13 + _width(name) + 14
        if rows[-1] and used + need > room:
            rows.append([])
            used = 0.0
        rows[-1].append((i, name))
        used += need
    return rows


def _fit(text: str, room: float) -> str:
    """``text`` shortened with an ellipsis to fit ``room`` pixels (the full text is elsewhere)."""
    most = max(4, int(room / CHAR_PX))
    return text if len(text) <= most else text[: most - 1] + "…"


def _marker(i: int, x: float, y: float, color: str) -> str:
    """Circle, square, triangle or diamond by line number, so lines differ without colour."""
    shape = i % 4
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"/>'
    if shape == 1:
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{color}"/>'
    if shape == 2:
        corners = f"{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} {x - 4.5:.1f},{y + 3.5:.1f}"
    else:
        corners = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
    return f'<polygon points="{corners}" fill="{color}"/>'
