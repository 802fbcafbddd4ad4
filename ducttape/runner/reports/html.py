"""report.html: one self-contained page (inline CSS, images and SVG, one small inline script that
opens every section for printing, nothing fetched), rendered from templates/report.html.j2.

Top to bottom: the session's summary line and a bar of its statuses, the cases of each
parametrized test side by side, then per test its status and error, its plots, its ``show()``
text, its figures as small tables (ducttape.runner.reports.tables) and the raw data behind a
disclosure. Tests that failed or have figures or plots are open.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import urllib.parse

import jinja2

from ducttape.runner.figures import Figure, figures
from ducttape.runner.reports.summary import params_line, when
from ducttape.runner.reports.tables import case_groups, figure_tables, spread
from ducttape.runner.result import SessionInfo

RAW_DATA_LIMIT = 200_000
"""Characters of a test's returned data shown on the page; longer data is only linked."""
STATUS_WORDS = {
    "PASS": "passed",
    "FAIL": "failed",
    "FLAKY": "flaky",
    "KNOWN-FAIL": "known failures",
    "UNEXPECTED-PASS": "unexpected passes",
    "NOT-RUN": "not run",
}
STATUS_SIGNS = {"PASS": "✓", "FAIL": "✗", "FLAKY": "≈", "KNOWN-FAIL": "⊘", "UNEXPECTED-PASS": "!", "NOT-RUN": "–"}


def number(v: object) -> str:
    """A value as the page shows it (6 significant digits; nothing for None)."""
    return "" if v is None else f"{v:.6g}" if isinstance(v, (int, float)) else str(v)


@functools.lru_cache(maxsize=4)  # a running session renders its page every few seconds
def environment(base: str) -> jinja2.Environment:
    """The templates' environment; ``base`` is the folder that relative paths start from."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ducttape.runner.reports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )

    def data_uri(rel: str) -> str:
        with open(os.path.join(base, rel), "rb") as f:
            return "data:image/png;base64," + base64.b64encode(f.read()).decode()

    env.filters.update(
        href=lambda p: urllib.parse.quote(p),
        num=number,
        when=when,
        params=params_line,
        data_uri=data_uri,
        spread=spread,
        breakable=breakable,
    )
    env.globals.update(status_words=STATUS_WORDS, status_signs=STATUS_SIGNS)
    return env


class _Html(str):
    """Text the templates insert as it is (already escaped): autoescaping honours ``__html__``."""

    def __html__(self) -> str:
        return self


def breakable(text: str) -> _Html:
    """``text`` escaped, with line-break opportunities after ``_`` and ``.`` (long figure names
    wrap instead of widening their table)."""
    return _Html(html.escape(str(text)).replace("_", "_<wbr>").replace(".", ".<wbr>"))


def _figures(test: dict) -> dict[str, Figure]:
    return figures(test.get("data"))


def _extras(test: dict) -> dict:
    """What the page shows of a test beyond its view: figure tables and the raw data's text."""
    raw = json.dumps(test.get("data"), indent=2, default=str) if test.get("data") is not None else ""
    return {
        "tables": figure_tables(_figures(test)),
        "raw": raw if len(raw) <= RAW_DATA_LIMIT else None,
        "open": test["status"] == "FAIL" or bool(test.get("figures") or test.get("plots")),
    }


def render(session: SessionInfo, view: dict, kept: dict | None = None) -> str:
    """report.html of a session's view (``view.session_view``). ``kept`` keeps each test's
    tables between calls (by its entry, which must not change once given here)."""
    kept = {} if kept is None else kept
    tests = []
    for n, test in enumerate(view["tests"], 1):
        entry = kept.get(id(test))
        if entry is None or entry[0] is not test:
            entry = kept[id(test)] = (test, _extras(test))
        tests.append({**test, **entry[1], "anchor": f"test-{n}"})
    groups = case_groups(tests, _figures)
    first_case = {g.cases[0]["anchor"]: g for g in groups}
    return environment(session.path).get_template("report.html.j2").render(s=view, tests=tests, first_case=first_case)
