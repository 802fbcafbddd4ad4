"""History: every operation of a workload and every fault event, as JSON lines.

One record per line, each with ``time`` (seconds since the epoch, the clock of the machine that
saw it) and ``type``:

- ``op``: ``f`` (what was done: ``send``, ``read``, ``write``...), ``process`` (which client),
  ``value``, ``outcome`` (``ok``: acknowledged; ``fail``: definitely not done; ``info``: unknown,
  e.g. a timeout), ``latency`` (seconds, when known) and ``error`` (when not ok);
- ``fault``: ``id``, ``fault`` (its kind), ``event`` (``start`` or ``end``), ``targets`` (node
  names) and ``detail``.

The checkers (``checkers.py``) and plots (``plots.py``) read nothing else.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

OK, FAIL, INFO = "ok", "fail", "info"
HISTORY_FILE = "history.jsonl"


@dataclass(frozen=True)
class FaultInterval:
    """One fault as the history saw it: from ``start`` to ``end`` (None: never healed)."""

    id: int
    fault: str
    targets: tuple[str, ...]
    start: float
    end: float | None
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.fault} {','.join(self.targets)}".strip()


class History:
    """An append-only history, written through to ``path`` (JSON lines) as records arrive.

    Thread-safe: workload threads and the nemesis add records at the same time.
    """

    def __init__(self, path: str | None = None):
        self.path = path
        self.records: list[dict] = []
        self._lock = threading.Lock()
        self._file = open(path, "a", buffering=1) if path else None

    def add(self, record: dict) -> dict:
        """Append ``record`` (stamped with ``time`` now unless it has one) and write it
        through; return the record as stored."""
        record = {"time": record.get("time") or time.time(), **{k: v for k, v in record.items() if k != "time"}}
        with self._lock:
            self.records.append(record)
            if self._file:
                self._file.write(json.dumps(record, default=str) + "\n")
        return record

    def op(
        self,
        f: str,
        value: object,
        outcome: str,
        process: object = 0,
        latency: float | None = None,
        error: str | None = None,
        time_s: float | None = None,
    ) -> dict:
        """Record one completed operation."""
        record = {"time": time_s, "type": "op", "f": f, "process": process, "value": value, "outcome": outcome}
        if latency is not None:
            record["latency"] = round(latency, 6)
        if error:
            record["error"] = error
        return self.add(record)

    def ops(self, f: str | None = None, outcome: str | None = None) -> list[dict]:
        """Operation records (of kind ``f``, with ``outcome``), in time order."""
        with self._lock:
            found = [
                r
                for r in self.records
                if r["type"] == "op" and (f is None or r["f"] == f) and (outcome is None or r["outcome"] == outcome)
            ]
        return sorted(found, key=lambda r: r["time"])

    def faults(self) -> list[FaultInterval]:
        """The faults recorded, in order of their start."""
        with self._lock:
            events = [r for r in self.records if r["type"] == "fault"]
        ends = {r["id"]: r["time"] for r in events if r["event"] == "end"}
        return [
            FaultInterval(
                r["id"], r["fault"], tuple(r.get("targets", ())), r["time"], ends.get(r["id"]), r.get("detail", "")
            )
            for r in sorted(events, key=lambda r: r["time"])
            if r["event"] == "start"
        ]

    def span(self, f: str | None = None) -> tuple[float, float]:
        """The first and last time of any record (of the operations ``f``, if there are any)."""
        with self._lock:
            times = [r["time"] for r in self.records]
            of_f = [r["time"] for r in self.records if f and r["type"] == "op" and r["f"] == f]
        times = of_f or times
        if not times:
            now = time.time()
            return now, now
        return min(times), max(times)

    def close(self) -> None:
        """Close the file; the records stay readable in memory."""
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None

    @classmethod
    def load(cls, path: str) -> "History":
        """Read a history written earlier (read-only: nothing is appended to ``path``)."""
        history = cls()
        history.path = path
        with open(path) as f:
            history.records = [json.loads(line) for line in f if line.strip()]
        return history
