"""Test: the base class of scenarios, and the ``@cluster`` declaration of node needs."""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

from ducttape.cluster import Cluster

F = TypeVar("F", bound=Callable)


class Test:
    """A scenario: ``setUp``, one or more ``test*`` methods, ``tearDown``.

    ``self.cluster`` holds the nodes the test may use; services created on it are registered and
    the runner stops them (reverse order) and collects their logs, even when the test failed.
    ``self.logger`` is tagged with the class name. Whatever a test method returns is saved as its
    data (``data.json``) and shown in the reports. ``self.results_dir`` is the test's own folder
    for any further files it wants to keep.
    """

    def __init__(self, cluster: Cluster, results_dir: str):
        self.cluster = cluster
        self.results_dir = results_dir
        self.logger = logging.getLogger(f"ducttape.test.{type(self).__name__}")

    def setUp(self) -> None:  # noqa: N802 - the seed's (unittest's) names
        """Prepare the test (e.g. start the services every method needs)."""

    def tearDown(self) -> None:  # noqa: N802
        """Undo ``setUp``; the runner also stops any service still running afterwards."""


def cluster(num_nodes: int) -> Callable[[F], F]:
    """Declare how many nodes a test method (or every method of a class) needs."""
    if not isinstance(num_nodes, int) or num_nodes < 1:
        raise ValueError(f"@cluster(num_nodes=...) needs a positive number, not {num_nodes!r}")

    def mark(obj: F) -> F:
        obj.__ducttape_num_nodes__ = num_nodes
        return obj

    return mark


def num_nodes_needed(cls: type, method: Callable) -> int | None:
    """The declared node need of ``cls.method``: the method's own, else the class's, else None."""
    return getattr(method, "__ducttape_num_nodes__", None) or getattr(cls, "__ducttape_num_nodes__", None)
