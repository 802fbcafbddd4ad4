"""The command that runs ducttape's tasks, as its messages name it: ``invoke`` in ducttape's own
checkout (``tasks.py``), ``ducttape`` where the package's command runs (a team's workspace)."""

from __future__ import annotations

_name = "invoke"


def command() -> str:
    """What a hint tells the user to type before a task: ``run `{command()} cluster.up```."""
    return _name


def use(name: str) -> None:
    """Name the running command (the ``ducttape`` program calls this as it starts)."""
    global _name
    _name = name
