"""ducktape.utils.util: ``wait_until``."""

from __future__ import annotations

import time

from ducttape.compat.ducktape.errors import TimeoutError  # noqa: A004 - ducktape's TimeoutError


def wait_until(condition, timeout_sec, backoff_sec=0.1, err_msg="", retry_on_exc=False):
    """Call ``condition()`` every ``backoff_sec`` until it is true; TimeoutError(``err_msg``, or
    ``err_msg()`` when it is callable) after ``timeout_sec``. An exception in ``condition``
    propagates, unless ``retry_on_exc`` (then the last one is chained to the TimeoutError)."""
    deadline = time.monotonic() + timeout_sec
    last_exc = None
    while True:
        try:
            if condition():
                return
        except Exception as exc:
            if not retry_on_exc:
                raise
            last_exc = exc
        if time.monotonic() >= deadline:
            break
        time.sleep(backoff_sec)
    message = err_msg() if callable(err_msg) else err_msg
    raise TimeoutError(message or f"condition not met within {timeout_sec}s") from last_exc
