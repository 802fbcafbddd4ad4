"""The one mechanism for doing work on many nodes at once."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], max_workers: int = 32) -> list[R]:
    """Call ``fn`` on every item concurrently and return the results in order.

    Every call runs to completion; if any raised, the first failure (in item order) is re-raised
    after all have finished, so no half-started work is left behind unnoticed.
    """
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="ducttape-parallel") as pool:
        # each call runs in a copy of the caller's context, so the caller's context variables
        # follow the work into the pool's threads
        futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
    errors = [e for f in futures if (e := f.exception()) is not None]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]
