"""Defaults for ``invoke test`` flags from configuration files, as ducktape reads its own.

A file holds flags as on the command line (``--exit-first``, ``--logs failed``, ``--max-parallel=2``),
split over lines as one likes; ``#`` starts a comment. The workspace's ``.ducttape/config`` is
read first, then the user's ``~/.ducttape/config`` (or the file ``--config-file`` names), then
the command line: a later value wins; repeatable flags (``--param``, ``--exclude``) add up.
"""

from __future__ import annotations

import inspect
import os
import shlex
from typing import Any

from ducttape.command_line import command
from ducttape.errors import ConfigError
from ducttape.workspace import find_workspace

USER_CONFIG = os.path.join("~", ".ducttape", "config")
WORKSPACE_CONFIG = os.path.join(".ducttape", "config")
"""Relative to the workspace's root folder."""


def config_files(config_file: str | None) -> list[str]:
    """The files that give defaults, lowest priority first: the workspace's (if the current
    folder is in a workspace and it has one), then ``config_file`` or else the user's."""
    found = []
    try:
        workspace = os.path.join(str(find_workspace().root), WORKSPACE_CONFIG)
    except ConfigError:  # outside any workspace
        workspace = None
    if workspace and os.path.isfile(workspace):
        found.append(workspace)
    if config_file:
        if not os.path.isfile(config_file):
            raise ConfigError(f"--config-file {config_file}: there is no such file")
        found.append(config_file)
    elif os.path.isfile(os.path.expanduser(USER_CONFIG)):
        found.append(os.path.expanduser(USER_CONFIG))
    return found


def read_flags(path: str, known: dict[str, object]) -> dict[str, object]:
    """The flags in file ``path`` by option name (``max_parallel``); ``known`` maps the
    options a file may set to their defaults (a bool is a switch, a list repeats)."""
    try:
        with open(path) as f:
            words = shlex.split(f.read(), comments=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc}") from None
    found: dict[str, Any] = {}  # a switch's bool, a value, or a repeated flag's list
    i = 0
    while i < len(words):
        word = words[i]
        flag, eq, value = word.partition("=")
        option = flag[2:].replace("-", "_")
        if not flag.startswith("--") or option not in known:
            names = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(known))
            raise ConfigError(f"config file {path}: {word!r} is not a flag of `{command()} test` ({names})")
        if isinstance(known[option], bool):
            if eq:
                raise ConfigError(f"config file {path}: {flag} is a switch and takes no value")
            found[option] = True
        else:
            if not eq:
                if i + 1 >= len(words) or words[i + 1].startswith("--"):
                    raise ConfigError(f"config file {path}: {flag} needs a value")
                i += 1
                value = words[i]
            if isinstance(known[option], list):
                found.setdefault(option, []).append(value)
            else:
                found[option] = value
        i += 1
    return found


def with_defaults(task, given: dict[str, Any], config_file: str | None) -> dict[str, Any]:
    """``given`` (the task's arguments as invoke parsed them) with the configuration files'
    values under those the command line left at their defaults."""
    defaults = {
        name: ([] if name in getattr(task, "iterable", ()) else p.default)
        for name, p in inspect.signature(task.body).parameters.items()
        if p.default is not inspect.Parameter.empty and name != "config_file"
    }
    merged: dict[str, Any] = {}
    for path in config_files(config_file):
        for option, value in read_flags(path, defaults).items():
            merged[option] = merged.get(option, []) + value if isinstance(value, list) else value
    result = dict(given)
    for option, value in merged.items():
        if isinstance(value, list):
            result[option] = value + list(given.get(option) or [])
        elif given.get(option) in (defaults[option], None):
            result[option] = value
    return result
