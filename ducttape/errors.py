"""Exceptions shared by every layer.

`DucttapeError` is the user-facing kind: its message is one line that says what was wrong, where,
and what to do. The command-line tasks print that line and exit non-zero without a traceback.
"""


class DucttapeError(Exception):
    """A problem the user can fix; ``str(err)`` is one self-explanatory line."""

    exit_code = 2


class ConfigError(DucttapeError):
    """Bad input: a malformed file, an unknown name, a missing setting."""


class ClusterError(DucttapeError):
    """The cluster cannot serve the request (too small, unreachable host, ...)."""


class TimeoutError(DucttapeError):  # noqa: A001 - deliberately ours, carries a one-line message
    """Something did not happen within its timeout."""
