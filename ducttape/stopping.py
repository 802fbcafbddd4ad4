"""Ending a command on SIGINT, SIGTERM or SIGHUP, all three the same way.

Inside ``stoppable()`` each of the three signals raises ``Stopped`` (a KeyboardInterrupt, so every
``except KeyboardInterrupt`` / ``finally`` cleanup runs for all three) in the main thread, after
asking this process's child processes (rsync, ssh, Maven, vagrant, ...) to end: code waiting on
a child in another thread is woken that way. On the way out the children still there get SIGKILL
after STOP_GRACE seconds, and the command exits with 128 + the signal's number: 130 (INT), 143
(TERM), 129 (HUP). A part that stops more gently (the runner stops its tests and their services
first) installs its own handlers for SIGNALS while it runs.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from invoke.exceptions import Exit

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_GRACE = 3.0
"""Seconds children get to end after SIGTERM before SIGKILL."""


class Stopped(KeyboardInterrupt):
    """A signal of SIGNALS ended the command; ``exit_code`` is 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


def exit_code(signum: int) -> int:
    """The exit status of a command ended by ``signum``."""
    return 128 + signum


@contextmanager
def stoppable() -> Iterator[None]:
    """Run the body so that SIGINT, SIGTERM and SIGHUP end it the same way (see the module);
    turns ``Stopped`` into invoke's ``Exit`` with 128 + the signal's number."""

    def stop(signum, frame):
        terminate_children(signal.SIGTERM)
        raise Stopped(signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: it is the caller's business there
        return
    previous = {sig: signal.signal(sig, stop) for sig in SIGNALS}
    try:
        yield
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        end_children()
        raise Exit(f"stopped by {signal.Signals(signum).name}", code=exit_code(signum)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def children() -> list[int]:
    """Every live process below this one (from /proc: child processes that made sessions of
    their own, as rsync and Maven do, included)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def terminate_children(sig: int = signal.SIGTERM) -> list[int]:
    """Send ``sig`` to every process below this one; return their pids."""
    pids = children()
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return pids


def kill_group(pid: int) -> None:
    """SIGKILL the process group that process ``pid`` leads (a child started with
    ``start_new_session``); nothing if it is gone already (a signal may have ended it)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def end_children(grace: float = STOP_GRACE) -> None:
    """Give the processes below this one ``grace`` seconds to end after SIGTERM, then SIGKILL
    the rest."""
    deadline = time.monotonic() + grace
    if not terminate_children(signal.SIGTERM):
        return
    while time.monotonic() < deadline:
        if not children():
            return
        time.sleep(0.05)
    terminate_children(signal.SIGKILL)
