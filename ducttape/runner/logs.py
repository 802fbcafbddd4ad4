"""Log files of sessions and tests.

Several tests may run at once, so a test's log file takes only the records made on its behalf:
the runner marks the test's threads with a context variable, and the framework's thread helpers
(``parallel_map``, ``BackgroundThreadService``) carry it into the threads they start.
"""

from __future__ import annotations

import contextvars
import logging
import os

LOG_FORMAT = "[%(asctime)s %(levelname)-5s %(threadName)s %(name)s] %(message)s"
current_test: contextvars.ContextVar[object | None] = contextvars.ContextVar("ducttape_test", default=None)


class _OnlyFor(logging.Filter):
    def __init__(self, token: object):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        return current_test.get() is self.token


def open_logs(folder: str, stem: str, token: object | None = None) -> list[logging.Handler]:
    """Attach ``<stem>.info`` and ``<stem>.debug`` in ``folder`` to the ``ducttape`` logger; with
    a ``token``, only records made while ``current_test`` is that token."""
    root = logging.getLogger("ducttape")
    root.setLevel(logging.DEBUG)
    handlers = []
    for level, suffix in ((logging.INFO, "info"), (logging.DEBUG, "debug")):
        h = logging.FileHandler(os.path.join(folder, f"{stem}.{suffix}"))
        h.setLevel(level)
        h.setFormatter(logging.Formatter(LOG_FORMAT))
        if token is not None:
            h.addFilter(_OnlyFor(token))
        root.addHandler(h)
        handlers.append(h)
    return handlers


def close_logs(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger("ducttape")
    for h in handlers:
        root.removeHandler(h)
        h.close()
