"""Decorators that describe test methods: node needs (``@cluster``) and cases
(``@parametrize``, ``@matrix``)."""

from __future__ import annotations

import itertools
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)
NumNodes = int | Callable[..., int]
# the attributes the marks set on a test method or class (ducttape.compat's marks set them too)
_NUM_NODES = "__ducttape_num_nodes__"
_CASES = "__ducttape_cases__"


def cluster(num_nodes: NumNodes) -> Callable[[F], F]:
    """Declare how many nodes a test method (or every method of a class) needs.

    ``num_nodes`` is a number, or a function of the case's parameters for parametrized tests,
    e.g. ``@cluster(num_nodes=lambda brokers, **_: brokers + 1)``.
    """
    if not callable(num_nodes) and (not isinstance(num_nodes, int) or num_nodes < 1):
        raise ValueError(f"@cluster(num_nodes=...) needs a positive number, not {num_nodes!r}")

    def mark(obj: F) -> F:
        setattr(obj, _NUM_NODES, num_nodes)
        return obj

    return mark


def parametrize(**params) -> Callable[[F], F]:
    """Add one case with these keyword arguments; stack it for more cases."""
    def mark(fn: F) -> F:
        setattr(fn, _CASES, [dict(params)] + list(getattr(fn, _CASES, [])))
        return fn

    return mark


def matrix(**lists) -> Callable[[F], F]:
    """Add one case per combination of the given lists (their cartesian product)."""
    for name, values in lists.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"@matrix({name}=...) needs a list of values, not {values!r}")
    names = list(lists)
    cases = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(list(lists[n]) for n in names))]

    def mark(fn: F) -> F:
        setattr(fn, _CASES, cases + list(getattr(fn, _CASES, [])))
        return fn

    return mark


def cases_of(method: Callable) -> list[dict]:
    """The parameter sets of ``method``: ``[{}]`` when it is not parametrized."""
    return list(getattr(method, _CASES, None) or [{}])


def num_nodes_needed(cls: type, method: Callable, params: dict) -> int | None:
    """The declared node need of one case: the method's, else the class's, else None."""
    need = getattr(method, _NUM_NODES, None) or getattr(cls, _NUM_NODES, None)
    return need(**params) if callable(need) else need
