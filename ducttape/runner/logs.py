"""Log files of sessions and tests.

Each test attempt runs in its own process, so its log files simply take every record made in
that process; the session's log (opened before the test processes are forked) takes them too.
"""

from __future__ import annotations

import logging
import os

LOG_FORMAT = "[%(asctime)s %(levelname)-5s %(threadName)s %(name)s] %(message)s"
LOGGERS = ("ducttape", "paramiko")
"""Loggers whose records go into the log files; paramiko's (warnings and errors, such as a lost
connection's) would otherwise land on the console, in the middle of the runner's lines."""


def open_logs(folder: str, stem: str) -> list[logging.Handler]:
    """Attach ``<stem>.info`` and ``<stem>.debug`` in ``folder`` to the ducttape and paramiko
    loggers."""
    logging.getLogger("ducttape").setLevel(logging.DEBUG)
    handlers = []
    for level, suffix in ((logging.INFO, "info"), (logging.DEBUG, "debug")):
        h = logging.FileHandler(os.path.join(folder, f"{stem}.{suffix}"))
        h.setLevel(level)
        h.setFormatter(logging.Formatter(LOG_FORMAT))
        for name in LOGGERS:
            logging.getLogger(name).addHandler(h)
        handlers.append(h)
    return handlers


def close_logs(handlers: list[logging.Handler]) -> None:
    for h in handlers:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(h)
        h.close()
