"""Log files of sessions and tests.

Each test attempt runs in its own process, forked after the session's log files were opened, so
its records go into the session's log as well as its own. A test's log files are created by the
first record they take: a test that logs nothing (and whose services log nothing) has none.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TextIO

from ducttape import secret

LOG_FORMAT = "[%(asctime)s %(levelname)-5s %(threadName)s %(name)s] %(message)s"
LOGGERS = ("ducttape", "paramiko")
"""Loggers whose records go into the log files; paramiko's (warnings and errors, such as a lost
connection's) would otherwise land on the console, in the middle of the runner's lines."""


class _Formatter(logging.Formatter):
    """LOG_FORMAT, with the date and time made once a second, secrets masked
    (``ducttape.secret.redact``), and each record formatted once for all the files it goes to
    (they share this formatter)."""

    def __init__(self):
        super().__init__(LOG_FORMAT)
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging.Formatter's name
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return f"{self._stamp},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        line = record.__dict__.get("_ducttape_line")
        if line is None:
            line = record._ducttape_line = secret.redact(super().format(record))
        return line


FORMATTER = _Formatter()


class LogFiles(logging.Handler):
    """``<stem>.info`` (INFO and above) and ``<stem>.debug`` (every record) in ``folder``, each
    created by the first record it takes (readable by its owner only: mode 0600) and flushed
    after every record (a killed test process loses nothing it logged). Without a folder it
    drops what it gets."""

    def __init__(self, stem: str, folder: str | None = None):
        super().__init__(logging.DEBUG)
        self.stem, self.folder = stem, folder
        self._files: dict[str, TextIO] = {}
        self.setFormatter(FORMATTER)

    def attach(self) -> "LogFiles":
        """Take the records of the ducttape and paramiko loggers (ducttape's down to DEBUG)."""
        logging.getLogger("ducttape").setLevel(logging.DEBUG)
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def open(self, folder: str) -> None:
        """Write into ``folder`` from now on (files of an earlier folder are closed)."""
        self._close_files()
        self.folder = folder

    def emit(self, record: logging.LogRecord) -> None:
        folder = self.folder
        if folder is None:
            return
        try:
            line = self.format(record) + "\n"
            self._write(folder, "debug", line)
            if record.levelno >= logging.INFO:
                self._write(folder, "info", line)
        except Exception:  # noqa: BLE001 - logging's own convention: report, never raise
            self.handleError(record)

    def _write(self, folder: str, suffix: str, line: str) -> None:
        f = self._files.get(suffix)
        if f is None:
            fd = os.open(os.path.join(folder, f"{self.stem}.{suffix}"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            f = self._files[suffix] = os.fdopen(fd, "a")
        f.write(line)
        f.flush()

    def _close_files(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def close(self) -> None:
        """Stop taking records and close the files."""
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self)
        self._close_files()
        self.folder = None
        super().close()
