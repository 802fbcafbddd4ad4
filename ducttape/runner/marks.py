"""Decorators that describe test methods: node needs (``@cluster``), cases (``@parametrize``,
``@matrix``), tags (``@tag``) and known failures (``@known_failure``)."""

from __future__ import annotations

import itertools
import re
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)
NumNodes = int | Callable[..., int]
TAG = re.compile(r"[A-Za-z_][\w.-]*")
"""What a tag looks like (``slow``, ``kafka``, ``kafka-3.9``); ``and``, ``or`` and ``not`` are
the words of ``--tags`` expressions, not tags."""
TAG_WORDS = {"and", "or", "not"}
# the attributes the marks set on a test method or class (ducttape.compat's marks set them too)
_NUM_NODES = "__ducttape_num_nodes__"
_NODE_TYPES = "__ducttape_node_types__"
_CASES = "__ducttape_cases__"
_TAGS = "__ducttape_tags__"
_KNOWN_FAILURE = "__ducttape_known_failure__"


def cluster(num_nodes: NumNodes | None = None, node_types: dict[str, int] | None = None) -> Callable[[F], F]:
    """Declare how many nodes a test method (or every method of a class) needs.

    ``num_nodes`` is a number (0 for a test that needs no nodes), or a function of the case's
    parameters for parametrized tests, e.g. ``@cluster(num_nodes=lambda brokers, **_: brokers + 1)``.
    ``node_types`` asks for nodes of given types (the ``type`` of a node in the cluster file,
    Vagrantfile.local or ec2.yaml), e.g. ``@cluster(node_types={"broker": 3, "client": 1})``;
    ``num_nodes`` then defaults to their sum, and nodes beyond it may be of any type.
    """
    types = dict(node_types or {})
    for name, count in types.items():
        if (
            not isinstance(name, str)
            or not TAG.fullmatch(name)
            or not isinstance(count, int)
            or isinstance(count, bool)
            or count < 1
        ):
            raise ValueError(
                f"@cluster(node_types=...) maps type names to positive numbers, "
                f"e.g. {{'broker': 3}}, not {name!r}: {count!r}"
            )
    if num_nodes is None:
        if not types:
            raise ValueError("@cluster needs num_nodes=N or node_types={...}")
        num_nodes = sum(types.values())
    if not callable(num_nodes) and (
        not isinstance(num_nodes, int) or isinstance(num_nodes, bool) or num_nodes < sum(types.values())
    ):
        raise ValueError(f"@cluster(num_nodes=...) needs a number from {sum(types.values())}, not {num_nodes!r}")

    def mark(obj: F) -> F:
        setattr(obj, _NUM_NODES, num_nodes)
        setattr(obj, _NODE_TYPES, types)
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


def tag(*names: str) -> Callable[[F], F]:
    """Give a test method (or every method of a class) tags, e.g. ``@tag("slow", "kafka")``;
    ``invoke test --tags "kafka and not slow"`` selects by them. Stackable."""
    for name in names:
        if not isinstance(name, str) or not TAG.fullmatch(name) or name in TAG_WORDS:
            raise ValueError(f"@tag({name!r}): a tag is a word such as 'slow' or 'kafka-3.9' (not and/or/not)")

    def mark(obj: F) -> F:
        setattr(obj, _TAGS, frozenset(obj.__dict__.get(_TAGS, ())) | set(names))
        return obj

    return mark


def known_failure(reason: str) -> Callable[[F], F]:
    """Mark a test method (or every method of a class) as failing for a known ``reason`` (e.g.
    an issue's link): a failure is reported KNOWN-FAIL and does not fail the session; a pass is
    reported UNEXPECTED-PASS (not fatal either: time to remove the mark)."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("@known_failure(reason) needs a reason, e.g. an issue's link")

    def mark(obj: F) -> F:
        setattr(obj, _KNOWN_FAILURE, reason.strip())
        return obj

    return mark


def cases_of(method: Callable) -> list[dict]:
    """The parameter sets of ``method``: ``[{}]`` when it is not parametrized."""
    return list(getattr(method, _CASES, None) or [{}])


def _declared(cls: type, method: Callable, name: str):
    found = getattr(method, name, None)
    return getattr(cls, name, None) if found is None else found


def num_nodes_needed(cls: type, method: Callable, params: dict) -> int | None:
    """The declared node need of one case: the method's, else the class's, else None."""
    need = _declared(cls, method, _NUM_NODES)
    return need(**params) if callable(need) else need


def node_types_needed(cls: type, method: Callable, params: dict) -> dict[str, int]:
    """The nodes of given types one case needs (``@cluster(node_types=...)``), {} if none; a
    function of the case's parameters (the compat layer's marks) is called with them."""
    types = _declared(cls, method, _NODE_TYPES)
    return dict((types(**params) if callable(types) else types) or {})


def tags_of(cls: type, method: Callable) -> frozenset[str]:
    """The tags of a test method and of its class."""
    return frozenset(getattr(cls, _TAGS, ())) | frozenset(getattr(method, _TAGS, ()))


def known_failure_of(cls: type, method: Callable) -> str:
    """The reason of the method's (else its class's) ``@known_failure``, '' if it has none."""
    return _declared(cls, method, _KNOWN_FAILURE) or ""
