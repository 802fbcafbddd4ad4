"""The commands this process is running on nodes right now, with node, thread and start time:
what a test that timed out was waiting on (``ducttape.runner.where``)."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Running:
    """One command in flight: on which node, since when (``time.monotonic()``), from which thread."""

    node: str
    command: str
    started: float
    thread_id: int
    thread: str

    def age(self) -> float:
        """Seconds it has run so far."""
        return time.monotonic() - self.started


_running: dict[int, Running] = {}
_keys = itertools.count()


@contextlib.contextmanager
def running(node: str, command: str) -> Iterator[Running]:
    """Count ``command`` on ``node`` as in flight while the block runs."""
    key = next(_keys)
    thread = threading.current_thread()
    entry = _running[key] = Running(node, command, time.monotonic(), thread.ident or 0, thread.name)
    try:
        yield entry
    finally:
        _running.pop(key, None)


def snapshot() -> list[Running]:
    """The commands in flight, oldest first. Takes no lock: safe in a signal handler."""
    return sorted(dict(_running).values(), key=lambda r: r.started)
