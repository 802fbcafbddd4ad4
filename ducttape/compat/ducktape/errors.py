"""ducktape.errors: ``DucktapeError`` (a RuntimeError, as in ducktape) and ``TimeoutError``,
which is also ducttape's TimeoutError."""

from ducttape.errors import TimeoutError as _DucttapeTimeoutError


class DucktapeError(RuntimeError):
    pass


class TimeoutError(_DucttapeTimeoutError, DucktapeError):  # noqa: A001 - ducktape's name
    pass
