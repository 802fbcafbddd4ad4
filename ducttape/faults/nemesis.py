"""Nemesis: applies faults on a schedule while a workload runs (Jepsen's nemesis)."""

from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence, Union

from ducttape.faults.faults import Fault, FaultSet

log = logging.getLogger("ducttape.faults")

Step = Union[Fault, Callable[[], Fault]]
"""A fault, or a function that makes one when its turn comes (e.g. "isolate the current leader")."""


class Nemesis:
    """Runs ``steps`` in turn in a thread of its own: wait ``quiet`` seconds, start the step's
    fault, keep it ``active`` seconds, heal it; after the last step, wait ``quiet`` once more.

    Faults given as objects are checked when the Nemesis is made, so one that cannot apply fails
    the test before its workload starts. ``stop()`` ends the schedule early and heals the fault
    in place; ``join()`` waits for the schedule and re-raises what went wrong in it.
    """

    def __init__(self, faults: FaultSet, steps: Sequence[Step], quiet: float = 10.0, active: float = 20.0):
        self.faults, self.steps = faults, list(steps)
        self.quiet, self.active = quiet, active
        for step in self.steps:
            if isinstance(step, Fault):
                faults.check(step)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="nemesis", daemon=True)

    def start(self) -> "Nemesis":
        """Start the schedule in its thread; return the nemesis."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the schedule early, heal the fault in place, and raise what went wrong in it."""
        self._stop.set()
        self.join()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the schedule to end (``timeout``: at most that long); raise its error."""
        self._thread.join(timeout)
        if self._error is not None:
            raise self._error

    @property
    def running(self) -> bool:
        """Whether the schedule has started and not yet ended."""
        return self._thread.is_alive()

    @property
    def duration(self) -> float:
        """Seconds the whole schedule takes when not stopped early."""
        return len(self.steps) * (self.quiet + self.active) + self.quiet

    def _run(self) -> None:
        try:
            for step in self.steps:
                if self._stop.wait(self.quiet):
                    return
                fault = self.faults.start(step if isinstance(step, Fault) else step())
                try:
                    self._stop.wait(self.active)
                finally:
                    self.faults.heal(fault)
            self._stop.wait(self.quiet)
        except BaseException as exc:  # noqa: BLE001 - handed to join()
            log.error("nemesis failed: %s", exc)
            self._error = exc
