"""Cluster: hands out nodes; a ClusterView is the share of one test."""

from __future__ import annotations

import threading
from typing import Sequence

from ducttape.cluster.lease import Place, node_places
from ducttape.cluster.node import Node
from ducttape.errors import ClusterError, ConfigError
from ducttape.parallel import parallel_map


class Cluster:
    """A fixed set of nodes handed out with ``request(n)`` and given back with ``free(nodes)``.

    A backend describes itself: ``syntax`` (how ``--cluster`` names it, e.g. ``json:FILE``),
    ``from_arg`` (make one from the text after the colon) and ``bigger_hint`` (what to do when
    it is too small).
    """

    description = "cluster"
    syntax = ""
    """How ``--cluster`` names this backend, e.g. ``localhost:N``."""
    known_hosts = None
    """The ``KnownHosts`` its nodes' SSH host keys are checked against (None: not over SSH)."""

    def __init__(self, nodes: Sequence[Node]):
        self.nodes: list[Node] = list(nodes)
        self._free: list[Node] = list(nodes)
        self._lock = threading.Lock()

    @classmethod
    def from_arg(cls, arg: str, spec: str) -> "Cluster":
        """The cluster named by ``spec`` (``arg`` is its part after the colon); ConfigError if
        ``arg`` does not fit ``syntax``."""
        if arg:
            raise ConfigError(f"bad cluster {spec!r}: {spec.partition(':')[0]} takes no argument")
        return cls()

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def num_available(self) -> int:
        """How many nodes are free (not handed out by ``request``)."""
        with self._lock:
            return len(self._free)

    def request(self, n: int) -> list[Node]:
        """Take ``n`` free nodes; raise ClusterError saying how many were asked for and exist."""
        with self._lock:
            if n > len(self._free):
                raise ClusterError(
                    f"asked for {n} node{'s' * (n != 1)} but the {self.description} has "
                    f"{len(self.nodes)}" + (f" ({len(self._free)} free)" if len(self._free) != len(self.nodes) else ""))
            taken, self._free = self._free[:n], self._free[n:]
            return taken

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

    def view(self, n: int | None = None) -> "ClusterView":
        """``n`` nodes (default: all free ones) taken from this cluster as a cluster of their own:
        what a test sees. ``release()`` gives them back."""
        return ClusterView(self, self.request(self.num_available if n is None else n))

    def lease_places(self) -> list[Place]:
        """Where a session leases this cluster's nodes (see ``ducttape.cluster.lease``)."""
        return node_places(self.nodes)

    def check(self) -> None:
        """Make sure every node answers a command; raise ClusterError for the first that doesn't."""
        parallel_map(lambda node: node.account.ssh("true", timeout=30), self.nodes)

    def close(self) -> None:
        """Release connections and anything the backend made for the session."""
        for node in self.nodes:
            node.account.close()


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
