"""Where a history plot (``ducttape.faults.plots``) shades its faults, read from its pixels: the
plot area between the axes' vertical spines, and per fault the columns of its shading colour."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from PIL import Image

from ducttape.faults.plots import FAULT_ALPHA, FAULT_COLORS


def shade(i: int) -> np.ndarray:
    """The RGB of the i-th fault's shading over the white background."""
    color = to_rgb(FAULT_COLORS[i % len(FAULT_COLORS)])
    return np.array([255 * (1 - FAULT_ALPHA) + 255 * FAULT_ALPHA * c for c in color])


def plot_area(image: Image.Image) -> tuple[int, int]:
    """The x pixels of the axes' left and right spines: the columns that are dark over most of
    the figure's height (both axes, stacked, share them)."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    dark = (pixels.max(axis=2) < 80).sum(axis=0)
    columns = np.flatnonzero(dark >= 0.4 * pixels.shape[0])
    assert len(columns) >= 2, f"no axes spines found in the plot: {columns}"
    return int(columns[0]), int(columns[-1])


def shaded_columns(image: Image.Image, i: int, tolerance: int = 3) -> np.ndarray:
    """The x pixels where the i-th fault's shading fills at least a fifth of the figure's height
    (a column through both axes' shaded band; the dots and lines drawn over it leave the rest)."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    match = (np.abs(pixels - shade(i)) <= tolerance).all(axis=2)
    return np.flatnonzero(match.sum(axis=0) >= 0.2 * pixels.shape[0])


def check_fault_shading(image: Image.Image, history, f: str) -> list[tuple[str, int, int]]:
    """Assert that each fault of ``history`` is shaded in ``image`` (plotted with operations
    ``f``) as one band where and as wide as its interval puts it on the time axis, within 3
    pixels and 5 %; return (fault, first column, width) per fault. A band may miss a few
    columns that what is drawn over it covers (a burst of dots at one instant)."""
    origin, last = history.span(f)
    seconds = max(int(last - origin) + 1, 1)  # the x axis runs from 0 to this (plot_history)
    left, right = plot_area(image)
    per_second = (right - left) / seconds
    found = []
    for i, fault in enumerate(history.faults()):
        start = min(max(fault.start - origin, 0), seconds)
        end = min(max((fault.end or last) - origin, 0), seconds)
        columns = shaded_columns(image, i)
        assert len(columns), f"{fault.label}: no column shaded in {to_rgb(FAULT_COLORS[i])}"
        width = int(columns[-1] - columns[0] + 1)
        assert width - len(columns) <= 3, \
            f"{fault.label}: the shaded columns are not one band: {columns}"
        expected_first, expected_width = left + start * per_second, (end - start) * per_second
        slack = 3 + 0.05 * expected_width
        assert abs(columns[0] - expected_first) <= slack and abs(width - expected_width) <= slack, \
            (f"{fault.label}: shaded from x={columns[0]} for {width} px; its interval "
             f"{start:.1f}-{end:.1f} s of {seconds} s puts it at x={expected_first:.0f} for "
             f"{expected_width:.0f} px (plot area x={left}..{right})")
        found.append((fault.label, int(columns[0]), width))
    return found
