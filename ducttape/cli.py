"""Helpers shared by the invoke tasks."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from invoke.exceptions import Exit

from ducttape.errors import DucttapeError


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a DucttapeError into one line on stderr and a non-zero exit, without a traceback."""
    try:
        yield
    except DucttapeError as exc:
        raise Exit(f"error: {exc}", code=exc.exit_code) from None
