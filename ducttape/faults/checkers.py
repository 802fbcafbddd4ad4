"""Checkers: what a history says about the system under test (Jepsen's checker).

Each takes a ``History`` and returns a plain dict (JSON-ready) with a ``valid`` verdict where
there is one, so a test can return it as data and assert on it.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from ducttape.faults.history import OK, FaultInterval, History

PERCENTILES = (50, 95, 99)


def lost_and_duplicates(history: History, write: str = "send", read: str = "read") -> dict:
    """Every acknowledged ``write`` must be seen by some ``read``; count what was not (lost),
    what was read more than once (duplicates) and what was read though its write was not
    acknowledged (allowed: its outcome was unknown or failed after the fact)."""
    acked = [r["value"] for r in history.ops(write, OK)]
    reads = Counter(r["value"] for r in history.ops(read, OK))
    lost = [v for v in acked if v not in reads]
    acked_set = set(acked)
    return {
        "valid": not lost,
        "acknowledged": len(acked),
        "read": sum(reads.values()),
        "lost": len(lost),
        "lost_examples": lost[:10],
        "duplicates": sum(n - 1 for n in reads.values() if n > 1),
        "read_not_acknowledged": sum(1 for v in reads if v not in acked_set),
    }


def _windows(history: History, f: str) -> list[tuple[FaultInterval, float, float]]:
    """Each fault with the stretch of time that belongs to it: from its start until the next
    fault starts (or the last ``f`` operation)."""
    faults = history.faults()
    _, last = history.span(f)
    return [
        (fault, fault.start, faults[i + 1].start if i + 1 < len(faults) else max(last, fault.start))
        for i, fault in enumerate(faults)
    ]


def _longest_gap(times: list[float], start: float, end: float) -> tuple[float, float]:
    """The longest stretch of [start, end] with none of ``times`` in it: (length, its start)."""
    points = [start] + [t for t in times if start < t < end] + [end]
    best = max(((b - a, a) for a, b in pairwise(points)), default=(0.0, start))
    return best


def availability(history: History, f: str = "send") -> dict:
    """The longest window without a successful ``f``, overall and for each fault (measured from
    the fault's start until the next fault's start, so it includes the recovery after healing).
    """
    ok_times = [r["time"] for r in history.ops(f, OK)]
    first, last = (ok_times[0], ok_times[-1]) if ok_times else history.span()
    overall, at = _longest_gap(ok_times, first, last)
    per_fault = []
    for fault, start, end in _windows(history, f):
        gap, gap_start = _longest_gap(ok_times, start, end)
        per_fault.append(
            {
                "fault": fault.label,
                "id": fault.id,
                "duration_s": round((fault.end or end) - fault.start, 3),
                "longest_unavailable_s": round(gap, 3),
                "unavailable_from_s": round(gap_start - fault.start, 3),
            }
        )
    return {
        "longest_unavailable_s": round(overall, 3),
        "longest_unavailable_at_s": round(at - history.span(f)[0], 3),
        "per_fault": per_fault,
    }


def percentiles(values: list[float], points=PERCENTILES) -> dict:
    """Nearest-rank percentiles of ``values`` (in the values' unit), plus count and max."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    result: dict[str, float] = {"count": len(ordered)}
    for p in points:
        rank = max(1, -(-p * len(ordered) // 100))
        result[f"p{p}"] = ordered[int(rank) - 1]
    result["max"] = ordered[-1]
    return result


def latency_phases(history: History, f: str = "send") -> list[dict]:
    """Latency percentiles (ms) and throughput (successful ``f`` per second) of each phase:
    before the first fault, during each fault, and between faults (after each)."""
    ops = [r for r in history.ops(f, OK) if "latency" in r]
    first, last = history.span(f)
    bounds: list[tuple[str, float, float]] = []
    cursor, previous = first, None
    for fault in history.faults():
        end = fault.end or last
        bounds.append(("before " + fault.label if previous is None else "after " + previous, cursor, fault.start))
        bounds.append(("during " + fault.label, fault.start, end))
        cursor, previous = end, fault.label
    bounds.append(("after " + previous if previous else "no fault", cursor, last))
    phases = []
    for name, start, end in bounds:
        inside = [r["latency"] * 1000 for r in ops if start <= r["time"] < end or (end == last and r["time"] == last)]
        length = max(end - start, 1e-9)
        phases.append(
            {
                "phase": name,
                "start_s": round(start - first, 3),
                "duration_s": round(end - start, 3),
                "throughput_per_s": round(len(inside) / length, 2),
                "latency_ms": {k: round(v, 2) if isinstance(v, float) else v for k, v in percentiles(inside).items()},
            }
        )
    return phases
