"""Configuration files of the product services, rendered from ``templates/*.j2`` (Jinja2)."""

from __future__ import annotations

import os
from typing import Mapping

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


def properties_file(settings: Mapping) -> str:
    """The text of a Java ``.properties`` file with ``settings`` (a client config, say), one
    ``key=value`` line each, escaped so that ``Properties.load`` reads them back as given."""
    return "".join(f"{properties_value(k, key=True)}={properties_value(v)}\n" for k, v in settings.items())


def properties_value(text: object, key: bool = False) -> str:
    """``text`` escaped for a ``.properties`` file (read as ISO-8859-1): backslashes doubled,
    characters other than printable ASCII as ``\\uXXXX``, a leading space escaped, and in a
    ``key`` the separators and comment characters too."""
    out = []
    for i, char in enumerate(str(text)):
        if char == "\\" or (char == " " and (key or i == 0)) or (key and char in "=:#!"):
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            data = char.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{int.from_bytes(data[j : j + 2], 'big'):04x}" for j in range(0, len(data), 2))
    return "".join(out)


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
