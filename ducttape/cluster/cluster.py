"""Cluster: hands out nodes; a ClusterView is the share of one test."""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Sequence

from ducttape.cluster.lease import Place, node_places
from ducttape.cluster.node import Node
from ducttape.errors import ClusterError, ConfigError
from ducttape.parallel import parallel_map

if TYPE_CHECKING:
    from ducttape.remote.host_keys import KnownHosts


def no_argument(arg: str, spec: str) -> None:
    """ConfigError unless ``arg``, the part of ``spec`` after the colon, is empty: for the
    backends that take no argument."""
    if arg:
        raise ConfigError(f"bad cluster {spec!r}: {spec.partition(':')[0]} takes no argument")


class Cluster:
    """A fixed set of nodes handed out with ``request(n)`` and given back with ``free(nodes)``.

    A backend describes itself: ``syntax`` (how ``--cluster`` names it, e.g. ``json:FILE``),
    ``from_arg`` (make one from the text after the colon) and ``bigger_hint`` (what to do when
    it is too small).
    """

    description = "cluster"
    syntax = ""
    """How ``--cluster`` names this backend, e.g. ``localhost:N``."""
    known_hosts: KnownHosts | None = None
    """The ``KnownHosts`` its nodes' SSH host keys are checked against (None: not over SSH)."""

    def __init__(self, nodes: Sequence[Node]):
        self.nodes: list[Node] = list(nodes)
        self._free: list[Node] = list(nodes)
        self._lock = threading.Lock()
        self.most_used = 0
        """The most nodes handed out at once so far (``--fail-bad-cluster-utilization``)."""

    @classmethod
    def from_arg(cls, arg: str, spec: str) -> "Cluster":
        """The cluster named by ``spec`` (``arg`` is its part after the colon); ConfigError if
        ``arg`` does not fit ``syntax``. Each backend defines it (``no_argument`` helps those
        that take none)."""
        raise NotImplementedError(f"{cls.__name__} is not a --cluster backend")

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def num_available(self) -> int:
        """How many nodes are free (not handed out by ``request``)."""
        with self._lock:
            return len(self._free)

    def request(self, n: int, node_type: str | None = None) -> list[Node]:
        """Take ``n`` free nodes (of ``node_type`` if given; else untyped nodes first); raise
        ClusterError saying how many were asked for and exist."""
        with self._lock:
            taken = _pick(self._free, n, {node_type: n} if node_type else {})
            if taken is None:
                of = f" of type {node_type}" if node_type else ""
                have = [x for x in self.nodes if not node_type or x.type == node_type]
                free = [x for x in self._free if not node_type or x.type == node_type]
                raise ClusterError(
                    f"asked for {n} node{'s' * (n != 1)}{of} but the {self.description} has "
                    f"{len(have)}" + (f" ({len(free)} free)" if len(free) != len(have) else "")
                )
            self._take(taken)
            return taken

    def _take(self, taken: list[Node]) -> None:
        self._free = [x for x in self._free if x not in taken]
        self.most_used = max(self.most_used, len(self.nodes) - len(self._free))

    def fits(self, n: int, node_types: dict[str, int] | None = None) -> bool:
        """Whether ``n`` nodes, ``node_types`` among them, are free now."""
        with self._lock:
            return _pick(self._free, n, node_types or {}) is not None

    def type_counts(self) -> collections.Counter:
        """How many nodes of each type the cluster has ('' counts the untyped ones)."""
        return collections.Counter(node.type for node in self.nodes)

    def type_misfit(self, node_types: dict[str, int], who: str) -> str | None:
        """Why the cluster can never give ``node_types`` (``who`` starts the sentence), or None."""
        have = self.type_counts()
        for node_type, count in node_types.items():
            if have[node_type] < count:
                known = ", ".join(f"{k} {v}" for k, v in sorted(have.items()) if k) or "none"
                return (
                    f"{who} {count} node{'s' * (count != 1)} of type {node_type} but the "
                    f"{self.description} has {have[node_type]} (types: {known})"
                )
        return None

    def free(self, nodes: Sequence[Node]) -> None:
        """Give nodes back; freeing a node twice or one not of this cluster is an error."""
        with self._lock:
            for node in nodes:
                if node not in self.nodes or node in self._free:
                    raise ValueError(f"node {node.name} is not in use in this cluster")
                self._free.append(node)
            self._free.sort(key=self.nodes.index)

    def bigger_hint(self, n: int) -> str:
        """What the user can do to get a cluster of ``n`` nodes (ends an error message)."""
        return "use a bigger cluster"

    def view(self, n: int | None = None, node_types: dict[str, int] | None = None) -> "ClusterView":
        """``n`` nodes (default: all free ones), ``node_types`` among them, taken from this
        cluster as a cluster of their own: what a test sees. ``release()`` gives them back."""
        n = self.num_available if n is None else n
        if not node_types:
            return ClusterView(self, self.request(n))
        with self._lock:
            taken = _pick(self._free, n, node_types)
            if taken is None:
                raise ClusterError(f"{n} nodes with {node_types} are not free in the {self.description}")
            self._take(taken)
        return ClusterView(self, taken)

    def lease_places(self) -> list[Place]:
        """Where a session leases this cluster's nodes (see ``ducttape.cluster.lease``)."""
        return node_places(self.nodes)

    def check(self) -> None:
        """Make sure every node answers a command; raise ClusterError for the first that doesn't."""
        parallel_map(lambda node: node.account.ssh("true", timeout=30), self.nodes)

    def leave_running(self) -> list[str]:
        """Keep what runs on the nodes and their files when the cluster is closed
        (``--no-teardown``): a backend that removes what it made for the session keeps it, and
        returns those local folders (to remove once what runs there is ended)."""
        return []

    def close(self) -> None:
        """Release connections and anything the backend made for the session."""
        for node in self.nodes:
            node.account.close()


def _pick(free: list[Node], n: int, node_types: dict[str, int]) -> list[Node] | None:
    """``n`` of the ``free`` nodes with ``node_types`` among them (the rest untyped nodes
    first, then any), in cluster order; None if they are not there."""
    taken: list[Node] = []
    for node_type, count in node_types.items():
        of_type = [x for x in free if x.type == node_type and x not in taken][:count]
        if len(of_type) < count:
            return None
        taken += of_type
    rest = sorted((x for x in free if x not in taken), key=lambda x: x.type != "")
    if n - len(taken) > len(rest):
        return None
    chosen = set(taken + rest[: max(0, n - len(taken))])
    return [x for x in free if x in chosen]


class ClusterView(Cluster):
    """Some nodes of a parent cluster, handed out to one test's services."""

    def __init__(self, parent: Cluster, nodes: Sequence[Node]):
        super().__init__(nodes)
        self.parent = parent
        self.description = f"test's share of the {parent.description}"

    def release(self, keep: Sequence[str] = ()) -> None:
        """Give this view's nodes back to the parent cluster, except those named in ``keep``."""
        self.parent.free([n for n in self.nodes if n.name not in keep])

    def close(self) -> None:  # the parent owns the connections
        pass
