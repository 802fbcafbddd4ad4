"""report.html: one self-contained page (inline CSS and images, no scripts, nothing fetched),
rendered from templates/report.html.j2."""

from __future__ import annotations

import base64
import functools
import os
import urllib.parse

import jinja2

from ducttape.runner.reports.summary import params_line, when
from ducttape.runner.result import SessionInfo

def number(v: object) -> str:
    return "" if v is None else f"{v:.6g}" if isinstance(v, (int, float)) else str(v)


@functools.lru_cache(maxsize=4)  # a running session renders its page every few seconds
def environment(base: str) -> jinja2.Environment:
    """The templates' environment; ``base`` is the folder that relative paths start from."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("ducttape.runner.reports", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)

    def data_uri(rel: str) -> str:
        with open(os.path.join(base, rel), "rb") as f:
            return "data:image/png;base64," + base64.b64encode(f.read()).decode()

    env.filters.update(href=lambda p: urllib.parse.quote(p), num=number, when=when,
                       params=params_line, data_uri=data_uri)
    return env


def render(session: SessionInfo, view: dict) -> str:
    """report.html of a session's view (``view.session_view``)."""
    return environment(session.path).get_template("report.html.j2").render(s=view)
