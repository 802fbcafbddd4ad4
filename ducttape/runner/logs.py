"""Log files of sessions and tests.

Each test attempt runs in its own process, so its log files simply take every record made in
that process; the session's log (opened before the test processes are forked) takes them too.
"""

from __future__ import annotations

import logging
import os

LOG_FORMAT = "[%(asctime)s %(levelname)-5s %(threadName)s %(name)s] %(message)s"


def open_logs(folder: str, stem: str) -> list[logging.Handler]:
    """Attach ``<stem>.info`` and ``<stem>.debug`` in ``folder`` to the ``ducttape`` logger."""
    root = logging.getLogger("ducttape")
    root.setLevel(logging.DEBUG)
    handlers = []
    for level, suffix in ((logging.INFO, "info"), (logging.DEBUG, "debug")):
        h = logging.FileHandler(os.path.join(folder, f"{stem}.{suffix}"))
        h.setLevel(level)
        h.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(h)
        handlers.append(h)
    return handlers


def close_logs(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger("ducttape")
    for h in handlers:
        root.removeHandler(h)
        h.close()
