"""ducktape.mark: ``parametrize``, ``matrix``, ``defaults``, ``ignore`` and ``env``, stacking as
ducktape's do.

Marks apply bottom-up, as decorators do. Each case remembers the node need of the first
``@cluster`` above it (``ducktape.mark.resource``), so ``@cluster`` covers the cases generated
below it that have none yet. After every mark the function carries what ducttape's discovery
reads: ``__ducttape_cases__`` (the cases not ignored), ``__ducttape_num_nodes__`` and
``__ducttape_node_types__`` (functions of a case's parameters that give its need and the node
types among it).
"""

from __future__ import annotations

import itertools
import os

__all__ = ["defaults", "env", "ignore", "matrix", "parametrize"]


class _Case:
    def __init__(self, params: dict, num_nodes: int | None = None):
        self.params = params
        self.num_nodes = num_nodes
        self.node_types: dict[str, int] = {}


class _Marks:
    """What the ducktape marks recorded on one test function."""

    def __init__(self) -> None:
        self.cases: list[_Case] = []
        self.default_need: int | None = None
        """The need of a ``@cluster`` applied before any case existed."""
        self.default_types: dict[str, int] = {}
        self.ignore_all = False
        self.ignore_when: list[dict] = []

    def _case(self, params: dict) -> _Case | None:
        return next((case for case in self.cases if case.params == params), None)

    def need(self, **params) -> int | None:
        case = self._case(params)
        return self.default_need if case is None or case.num_nodes is None else case.num_nodes

    def types(self, **params) -> dict[str, int]:
        case = self._case(params)
        return self.default_types if case is None or case.num_nodes is None else case.node_types

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
    fn.__ducttape_node_types__ = marks.types


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


def defaults(**kwargs):
    """Add the combinations of these lists to every case made so far that lacks the argument
    (and, on a function without cases, make one case per combination)."""
    names = list(kwargs)
    for name, values in kwargs.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"@defaults({name}=...) needs a list of values, not {values!r}")

    def mark(fn):
        marks = marks_of(fn)
        products = itertools.product(*(list(kwargs[n]) for n in names))
        combos = [dict(zip(names, combo, strict=True)) for combo in products]
        if not marks.cases:
            marks.cases = [_Case(combo) for combo in combos]
        else:
            widened = []
            for case in marks.cases:
                missing = [n for n in names if n not in case.params]
                for combo in {tuple((n, c[n]) for n in missing): c for c in combos}.values():
                    new = _Case({**{n: combo[n] for n in missing}, **case.params}, case.num_nodes)
                    new.node_types = case.node_types
                    widened.append(new)
            marks.cases = widened
        publish(fn)
        return fn
    return mark


def env(**kwargs):
    """Run the test only where every named environment variable has the given value."""
    def mark(fn):
        if any(os.environ.get(key) != value for key, value in kwargs.items()):
            marks_of(fn).ignore_all = True
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
