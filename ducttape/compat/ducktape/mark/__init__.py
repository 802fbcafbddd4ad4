"""ducktape.mark: ``parametrize``, ``matrix`` and ``ignore``, stacking as ducktape's do.

Marks apply bottom-up, as decorators do. Each case remembers the node need of the first
``@cluster`` above it (``ducktape.mark.resource``), so ``@cluster`` covers the cases generated
below it that have none yet. After every mark the function carries what ducttape's discovery
reads: ``__ducttape_cases__`` (the cases not ignored) and ``__ducttape_num_nodes__`` (a function
of a case's parameters that gives its need).
"""

from __future__ import annotations

import itertools

__all__ = ["ignore", "matrix", "parametrize"]


class _Case:
    def __init__(self, params: dict, num_nodes: int | None = None):
        self.params = params
        self.num_nodes = num_nodes


class _Marks:
    """What the ducktape marks recorded on one test function."""

    def __init__(self) -> None:
        self.cases: list[_Case] = []
        self.default_need: int | None = None
        """The need of a ``@cluster`` applied before any case existed."""
        self.ignore_all = False
        self.ignore_when: list[dict] = []

    def need(self, **params) -> int | None:
        for case in self.cases:
            if case.params == params:
                return case.num_nodes or self.default_need
        return self.default_need

    def active_cases(self) -> list[dict]:
        return [c.params for c in self.cases if not self._ignored(c.params)]

    def _ignored(self, params: dict) -> bool:
        if self.ignore_all:
            return True
        return any(all(params.get(k, _MISSING) == v for k, v in when.items()) for when in self.ignore_when)


_MISSING = object()


def marks_of(fn) -> _Marks:
    marks = fn.__dict__.get("__ducktape_marks__")
    if marks is None:
        marks = fn.__ducktape_marks__ = _Marks()
    return marks


def publish(fn) -> None:
    """Tell ducttape's discovery the function's cases and their node needs."""
    marks = marks_of(fn)
    cases = marks.active_cases()
    if not cases and (marks.cases or marks.ignore_all):
        fn.__ducttape_ignored__ = True  # every case ignored: the test is not run
    fn.__ducttape_cases__ = cases
    fn.__ducttape_num_nodes__ = marks.need


def parametrize(**kwargs):
    """One case with these arguments (stackable)."""
    def mark(fn):
        marks_of(fn).cases.insert(0, _Case(dict(kwargs)))
        publish(fn)
        return fn
    return mark


def matrix(**kwargs):
    """One case per combination of the given lists."""
    names = list(kwargs)
    for name, values in kwargs.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"@matrix({name}=...) needs a list of values, not {values!r}")

    def mark(fn):
        combos = itertools.product(*(list(kwargs[n]) for n in names))
        marks_of(fn).cases[:0] = [_Case(dict(zip(names, combo, strict=True))) for combo in combos]
        publish(fn)
        return fn
    return mark


def ignore(*args, **kwargs):
    """``@ignore`` skips the test; ``@ignore(x=1)`` skips the cases with x=1."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        fn = args[0]
        marks_of(fn).ignore_all = True
        publish(fn)
        return fn

    def mark(fn):
        marks = marks_of(fn)
        if kwargs:
            marks.ignore_when.append(dict(kwargs))
        else:
            marks.ignore_all = True
        publish(fn)
        return fn
    return mark
