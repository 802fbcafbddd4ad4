"""Helpers shared by the invoke tasks."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from invoke.exceptions import Exit

from ducttape import secret
from ducttape.errors import DucttapeError


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a DucttapeError into one line on stderr (secrets masked) and a non-zero exit,
    without a traceback."""
    try:
        yield
    except DucttapeError as exc:
        raise Exit(f"error: {secret.redact(str(exc))}", code=exc.exit_code) from None
