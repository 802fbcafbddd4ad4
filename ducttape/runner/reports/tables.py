"""Small tables of a test's figures, laid out by the structure of their keys, and of a
parametrized test's figures across its cases.

A figure's key is a dotted path (``native.at_rate.2.latency_99th_ms``): its last part names the
column and the rest the row (``native.at_rate.2``). Rows of the same depth with the same columns
make one table; the parts in which its rows differ become the row labels (``native``/``rest`` and
the offered load's index ``2``), the parts they share its title (``*.at_rate.N``). A table that
would have more than ``MAX_ROWS`` rows is cut into several, and a table of one row is shown
turned (one figure a row). A short list of numbers (``range: {"latency_99th_ms": [min, max]}``)
is one cell of its own key's column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ducttape.runner.figures import Figure
from ducttape.runner.reports.svg import Line, Point, chart, number

MAX_ROWS = 40
SHORT_LIST = 4
"""Lists of at most this many numbers are one cell."""
MAX_CASE_COLUMNS = 8
"""Figures per table of cases side by side (more make further tables)."""
MAX_CASE_PLOTS = 6


@dataclass
class Cell:
    """A table cell: one figure, or a short list of them."""

    key: str
    """The figure's full key (every figure of the data is reachable on the page by it)."""
    figure: Figure
    items: list["Cell"] = field(default_factory=list)
    """For a short list: its figures (then ``figure`` is the first's)."""


@dataclass
class Table:
    """A table of figures: its title, row label headers, columns and rows (labels, cells)."""

    title: str
    row_headers: list[str]
    columns: list[str]
    rows: list[tuple[list[str], dict[str, Cell]]] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    """Per column, its unit and better direction when every cell shares them."""
    turned: bool = False
    """One row, shown as one figure a row ..."""
    details: list[str] = field(default_factory=list)
    """... with these of ``unit``, ``better`` and ``repeats`` beside each value (those some
    figure of the table has)."""


def _index(part: str) -> bool:
    return part.isdigit()


def _column_note(cells: list[Cell]) -> str:
    units = {c.figure.unit for c in cells}
    betters = {c.figure.better for c in cells}
    if len(units) != 1 or len(betters) != 1:
        return ""
    unit, better = units.pop(), betters.pop()
    arrow = {"higher": "higher is better", "lower": "lower is better"}.get(better, "")
    return ", ".join(w for w in (unit, arrow) if w)


def figure_tables(figs: dict[str, Figure]) -> list[Table]:
    """Tables of ``figs`` (by key, in their order), every figure in exactly one of them."""
    rows: dict[tuple[str, ...], dict[str, Cell]] = {}
    for key, fig in figs.items():
        parts = tuple(key.split(".")) if key else ("(value)",)
        rows.setdefault(parts[:-1], {})[parts[-1]] = Cell(key, fig)
    for row, cells in list(rows.items()):  # a short list of numbers: one cell of its parent row
        if row and len(cells) <= SHORT_LIST and list(cells) == [str(i) for i in range(len(cells))]:
            items = list(cells.values())
            parent = rows.setdefault(row[:-1], {})
            parent[row[-1]] = Cell(items[0].key, items[0].figure, items)
            del rows[row]
    groups: dict[tuple, list[tuple[str, ...]]] = {}
    for row, cells in rows.items():
        groups.setdefault((len(row), tuple(cells)), []).append(row)
    tables = []
    for (depth, columns), members in groups.items():
        varying = [i for i in range(depth) if len({m[i] for m in members}) > 1]
        title = (
            ".".join(
                ("N" if all(_index(m[i]) for m in members) else "*") if i in varying else part
                for i, part in enumerate(members[0])
            )
            or "figures"
        )
        headers = [
            (members[0][i - 1] + " #" if i and i - 1 not in varying else "#")
            if all(_index(m[i]) for m in members)
            else ""
            for i in varying
        ]
        for start in range(0, len(members), MAX_ROWS):
            chunk = members[start : start + MAX_ROWS]
            table = Table(
                title + (f" (rows {start + 1}-{start + len(chunk)})" if len(members) > MAX_ROWS else ""),
                headers,
                list(columns),
            )
            table.rows = [([m[i] for i in varying], rows[m]) for m in chunk]
            table.units = {c: _column_note([cells[c] for _, cells in table.rows if c in cells]) for c in columns}
            if len(chunk) == 1:
                table = _turned(table)
            tables.append(table)
    return _split_turned(tables)


def _turned(table: Table) -> Table:
    """A table of one row as one figure a row."""
    cells = table.rows[0][1]
    turned = Table(table.title, ["figure"], ["value"], turned=True)
    turned.rows = [([column], {"value": cells[column]}) for column in table.columns]
    figs = [cells[column].figure for column in table.columns]
    turned.details = [
        name
        for name, shown in (
            ("unit", any(f.unit for f in figs)),
            ("better", any(f.better for f in figs)),
            ("repeats", any(spread(f) for f in figs)),
        )
        if shown
    ]
    return turned


def _split_turned(tables: list[Table]) -> list[Table]:
    """``tables`` with every turned table of more than MAX_ROWS figures cut into several."""
    out = []
    for t in tables:
        if not t.turned or len(t.rows) <= MAX_ROWS:
            out.append(t)
            continue
        for start in range(0, len(t.rows), MAX_ROWS):
            part = Table(
                f"{t.title} ({start + 1}-{min(start + MAX_ROWS, len(t.rows))})",
                t.row_headers,
                t.columns,
                t.rows[start : start + MAX_ROWS],
                {},
                True,
                t.details,
            )
            out.append(part)
    return out


def spread(fig: Figure) -> str:
    """``n: [low, high]`` (the interval of the median, ``unstable`` when the repeats ended before
    it was narrow), else ``n: min – max`` of a figure's repeats, or nothing for a single value."""
    n = f"{len(fig.values)}: " if len(fig.values) > 1 else ""
    if fig.low is not None and fig.high is not None:
        return f"{n}[{number(fig.low)}, {number(fig.high)}]" + (" unstable" if fig.stable is False else "")
    return f"{n}{number(min(fig.values))} – {number(max(fig.values))}" if n else ""


# -- cases side by side ------------------------------------------------------------------------


@dataclass
class CaseGroup:
    """The cases of one parametrized test: their parameters and figures side by side."""

    test: str
    params: list[str]
    cases: list[dict]
    """Each: ``params`` (dict), ``status``, ``anchor`` (the case's element id), ``figures``
    (key -> Figure)."""
    tables: list[list[str]] = field(default_factory=list)
    """Figure keys of each table (at most MAX_CASE_COLUMNS)."""
    plots: list[str] = field(default_factory=list)
    """SVG charts, when one parameter is numeric."""


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def case_groups(tests: list[dict], figures_of) -> list[CaseGroup]:
    """A group per test method run with at least two parameter sets (``tests``: report views with
    ``anchor``; ``figures_of(test)``: its figures by key), its figures in tables of columns, and
    a chart per figure (up to MAX_CASE_PLOTS, those with a unit first) against a numeric
    parameter when one varies."""
    by_method: dict[str, list[dict]] = {}
    for t in tests:
        if t.get("params"):
            by_method.setdefault(f"{t['module']}::{t['cls']}.{t['method']}", []).append(t)
    groups = []
    for name, members in by_method.items():
        if len(members) < 2:
            continue
        params = list(dict.fromkeys(k for t in members for k in t["params"]))
        cases = [
            {
                "params": t["params"],
                "status": t["status"],
                "anchor": t["anchor"],
                "figures": {k: f for k, f in figures_of(t).items() if k not in t["params"]},
            }
            for t in members
        ]
        keys = list(dict.fromkeys(k for c in cases for k in c["figures"]))
        group = CaseGroup(
            name, params, cases, [keys[i : i + MAX_CASE_COLUMNS] for i in range(0, len(keys), MAX_CASE_COLUMNS)] or [[]]
        )
        varying = [p for p in params if len({repr(c["params"].get(p)) for c in cases}) > 1]
        numeric = [p for p in varying if _numeric([c["params"].get(p) for c in cases])]
        if numeric:
            group.plots = _case_plots(cases, keys, numeric[0], [p for p in varying if p != numeric[0]])
        groups.append(group)
    return groups


def _case_plots(cases: list[dict], keys: list[str], x_param: str, others: list[str]) -> list[str]:
    """One chart per figure: the figure against ``x_param``, one line per value of the others."""
    with_unit = [k for k in keys if any(c["figures"].get(k) and c["figures"][k].unit for c in cases)]
    chosen = (with_unit + [k for k in keys if k not in with_unit])[:MAX_CASE_PLOTS]
    xs = sorted({c["params"][x_param] for c in cases})
    plots = []
    for key in chosen:
        lines: dict[str, Line] = {}
        unit = ""
        for c in cases:
            fig = c["figures"].get(key)
            if fig is None:
                continue
            unit = unit or fig.unit
            name = " ".join(f"{p}={c['params'].get(p)}" for p in others) or key
            lo, hi = fig.band or (None, None)
            lines.setdefault(name, Line(name)).points.append(
                Point(
                    c["params"][x_param],
                    fig.value,
                    f"{name}, {x_param}={c['params'][x_param]}: {number(fig.value)} {fig.unit}".strip()
                    + (f" ({spread(fig)})" if lo is not None else ""),
                    lo,
                    hi,
                )
            )
        if lines:
            label = f"{key}{f' ({unit})' if unit else ''} against {x_param}"
            plots.append(
                chart(list(lines.values()), [(x, number(x)) for x in xs], unit, label=label, width=420, height=220)
            )
    return plots
