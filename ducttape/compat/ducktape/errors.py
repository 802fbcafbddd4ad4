"""ducktape.errors: its error types, as ducttape's own (so ``except TimeoutError`` catches the
timeouts of ducttape's waits too)."""

from ducttape.errors import DucttapeError as DucktapeError
from ducttape.errors import TimeoutError

__all__ = ["DucktapeError", "TimeoutError"]
