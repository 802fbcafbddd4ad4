"""Configuration files of the product services, rendered from ``templates/*.j2`` (Jinja2)."""

from __future__ import annotations

import os

import jinja2

from ducttape.errors import ConfigError

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    undefined=jinja2.StrictUndefined,  # a missing variable is an error, not an empty string
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(name: str, **context: object) -> str:
    """The text of template ``name`` (e.g. ``"kafka/server.properties.j2"``) with ``context``.

    Every value must be one line (a settings file is a line per setting): a key or value that
    holds a line break would add settings of its own, so it is a ConfigError."""
    for key, value in context.items():
        _one_line(name, key, value)
    return _ENV.get_template(name).render(**context)


def _one_line(template: str, key: str, value: object) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _one_line(template, f"{key}: {k}", k)
            _one_line(template, f"{key}: {k}", v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _one_line(template, key, v)
    elif isinstance(value, str) and any(c in value for c in "\r\n\x00"):
        raise ConfigError(f"{template}: {key} {value!r} holds a line break; settings are one line each")
