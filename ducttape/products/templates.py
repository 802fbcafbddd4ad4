"""Configuration files of the product services, rendered from ``templates/*.j2`` (Jinja2)."""

from __future__ import annotations

import os

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    undefined=jinja2.StrictUndefined,  # a missing variable is an error, not an empty string
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(name: str, **context: object) -> str:
    """The text of template ``name`` (e.g. ``"kafka/server.properties.j2"``) with ``context``."""
    return _ENV.get_template(name).render(**context)
