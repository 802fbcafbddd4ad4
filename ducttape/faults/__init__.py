"""Faults as a module (Jepsen's nemesis, history and checker, kept apart).

``FaultSet`` starts and heals faults on a test's nodes (``faults.py``: kill, pause, partition,
isolate, loss, bandwidth, delay) and records each in a ``History`` (``history.py``) beside the
workload's operations; a ``Nemesis`` (``nemesis.py``) applies them on a schedule; ``checkers.py``
reads the history (lost and duplicated records, availability, latency per phase) and
``plots.py`` draws it. Nothing here knows any product.
"""

from ducttape.faults.faults import Bandwidth, Delay, Fault, FaultSet, Isolate, Kill, Loss, Partition, Pause
from ducttape.faults.history import FAIL, HISTORY_FILE, INFO, OK, History
from ducttape.faults.nemesis import Nemesis

__all__ = [
    "Bandwidth",
    "Delay",
    "Fault",
    "FaultSet",
    "History",
    "Isolate",
    "Kill",
    "Loss",
    "Nemesis",
    "Partition",
    "Pause",
    "FAIL",
    "HISTORY_FILE",
    "INFO",
    "OK",
]
