"""ducktape.mark: ``parametrize``, ``matrix``, ``defaults``, ``ignore`` and ``env``, expanded as
ducktape expands them.

A mark only records itself on the function, in the order the decorators apply (bottom-up).
``expand(fn)`` then applies the recorded marks one after another to a list of cases, as
ducktape's loader does: the list starts empty when a parametrizing mark (parametrize, matrix,
defaults) is present, else with the one case without arguments; ``@parametrize`` and ``@matrix``
put their cases in front, ``@defaults`` fills the arguments the cases lack (every case, or a
matrix of its own when there is none), ``@ignore``/``@env`` mark cases ignored and
``@cluster`` (``ducktape.mark.resource``) gives the cases without a need yet its need.
"""

from __future__ import annotations

import itertools
import os

__all__ = ["defaults", "env", "ignore", "matrix", "parametrize", "parametrized", "ignored"]

MARKS = "__ducktape_marks__"
"""The attribute of a marked function holding its marks, in the order they were applied."""


class Case:
    """One case of a test function: its arguments (None for a function without parametrizing
    marks), what ``@cluster`` said of it, and whether it is ignored."""

    def __init__(self, args: dict | None, cluster: dict | None = None, ignored: bool = False):
        self.args = args
        self.cluster = cluster or {}
        self.ignored = ignored

    def num_nodes(self) -> int | None:
        """The nodes ``@cluster`` asks for (``cluster_spec``'s size, else ``num_nodes``; 0 for
        none), or None when it said nothing."""
        spec = self.cluster.get("cluster_spec")
        return spec.size() if spec is not None else self.cluster.get("num_nodes")

    def node_types(self) -> dict[str, int]:
        """How many nodes of each type ``@cluster(cluster_spec=...)`` asks for."""
        spec = self.cluster.get("cluster_spec")
        return spec.node_types() if spec is not None else {}


class Mark:
    """A mark on a test function; ``apply`` turns the list of cases made so far into the next."""

    parametrizing = False

    def apply(self, cases: list[Case]) -> list[Case]:
        raise NotImplementedError


def add_mark(fn, mark: Mark):
    """Record ``mark`` on ``fn`` (after the marks applied before it); return ``fn``."""
    marks = fn.__dict__.get(MARKS)
    if marks is None:
        marks = fn.__dict__[MARKS] = []
    marks.append(mark)
    return fn


def expand(fn) -> list[Case]:
    """The cases of test function ``fn``, ignored ones included, in ducktape's order; ValueError
    when a mark has no case to apply to (as ducktape's loader fails on it)."""
    marks = getattr(fn, MARKS, [])
    cases = [] if any(m.parametrizing for m in marks) else [Case(None)]
    for mark in marks:
        cases = mark.apply(cases)
    return cases


def parametrized(fn) -> bool:
    """Whether ``fn`` carries ``@parametrize``, ``@matrix`` or ``@defaults``."""
    return any(m.parametrizing for m in getattr(fn, MARKS, []))


def ignored(fn) -> bool:
    """Whether ``fn`` carries ``@ignore``."""
    return any(isinstance(m, _Ignore) for m in getattr(fn, MARKS, []))


def _product(lists: dict) -> list[dict]:
    names = list(lists)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(lists[n] for n in names))]


def _check_iterable(mark: str, lists: dict) -> None:
    for name, values in lists.items():
        try:
            iter(values)
        except TypeError:
            raise ValueError(f"@{mark}({name}=...) needs an iterable of values, not {values!r}") from None


class _Parametrize(Mark):
    parametrizing = True

    def __init__(self, args: dict):
        self.args = args

    def apply(self, cases):
        return [Case(self.args)] + cases


class _Matrix(Mark):
    parametrizing = True
    name = "matrix"

    def __init__(self, lists: dict):
        _check_iterable(self.name, lists)
        self.lists = lists

    def apply(self, cases):
        return [Case(args) for args in reversed(_product(self.lists))] + cases


class _Defaults(_Matrix):
    name = "defaults"

    def apply(self, cases):
        if not cases:
            return [Case(args) for args in reversed(_product(self.lists))]
        made = []
        for case in cases:  # the values a case lacks, its own arguments after them
            missing = {name: values for name, values in self.lists.items() if name not in case.args}
            made += [Case({**args, **case.args}, case.cluster) for args in _product(missing)]
        return made[::-1]


class _Ignore(Mark):
    def __init__(self, args: dict | None):
        self.args = args
        """None ignores every case; else the cases whose arguments are exactly these."""

    def apply(self, cases):
        if not cases:
            raise ValueError("@ignore is applied to no test case (put it above @parametrize/@matrix)")
        for case in cases:
            case.ignored = case.ignored or self.args is None or self.args == case.args
        return cases


class _Env(Mark):
    def __init__(self, variables: dict):
        self.unmet = any(os.environ.get(name) != value for name, value in variables.items())

    def apply(self, cases):
        for case in cases:
            case.ignored = case.ignored or self.unmet
        return cases


def parametrize(**kwargs):
    """One case with these arguments (stackable)."""
    return lambda fn: add_mark(fn, _Parametrize(kwargs))


def matrix(**kwargs):
    """One case per combination of the given iterables."""
    mark = _Matrix(kwargs)
    return lambda fn: add_mark(fn, mark)


def defaults(**kwargs):
    """Values (iterables) for the arguments the other cases lack: each case becomes one per
    combination of its missing ones; alone, a matrix."""
    mark = _Defaults(kwargs)
    return lambda fn: add_mark(fn, mark)


def ignore(*args, **kwargs):
    """``@ignore`` ignores every case; ``@ignore(x=1)`` the cases whose arguments are exactly
    ``{x: 1}``. Ignored cases are collected and not run."""
    if len(args) == 1 and not kwargs:
        return add_mark(args[0], _Ignore(None))
    return lambda fn: add_mark(fn, _Ignore(kwargs))


def env(**kwargs):
    """Ignore the cases unless every named environment variable has the given value."""
    mark = _Env(kwargs)
    return lambda fn: add_mark(fn, mark)
