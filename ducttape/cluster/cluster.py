"""Cluster: hands out nodes to services and keeps track of the services using them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Sequence

from ducttape.cluster.node import Node
from ducttape.errors import ClusterError
from ducttape.parallel import parallel_map

if TYPE_CHECKING:
    from ducttape.services.service import Service


class Cluster:
    """A fixed set of nodes handed out with ``request(n)`` and given back with ``free(nodes)``."""

    description = "cluster"

    def __init__(self, nodes: Sequence[Node]):
        self.nodes: list[Node] = list(nodes)
        self._free: list[Node] = list(nodes)
        self._lock = threading.Lock()
        self.services: list["Service"] = []
        self.log_collector: Callable[["Service"], None] | None = None
        """Called by a service as it stops, before it cleans its nodes (the runner sets it)."""

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def num_available(self) -> int:
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

    def register(self, service: "Service") -> None:
        """Remember a service created on this cluster, so the runner can stop it."""
        self.services.append(service)

    def view(self, n: int | None = None) -> "ClusterView":
        """``n`` nodes (default: all free ones) taken from this cluster as a cluster of their own,
        with its own service registry: what a test sees. ``release()`` gives them back."""
        return ClusterView(self, self.request(self.num_available if n is None else n))

    def check(self) -> None:
        """Make sure every node answers a command; raise ClusterError for the first that doesn't."""
        parallel_map(lambda node: node.account.ssh("true", timeout=30), self.nodes)

    def close(self) -> None:
        """Release connections and anything the backend made for the session."""
        for node in self.nodes:
            node.account.close()


class ClusterView(Cluster):
    """Some nodes of a parent cluster, with the services created on them."""

    def __init__(self, parent: Cluster, nodes: Sequence[Node]):
        super().__init__(nodes)
        self.parent = parent
        self.description = f"test's share of the {parent.description}"

    def release(self) -> None:
        """Give this view's nodes back to the parent cluster."""
        self.parent.free(self.nodes)

    def close(self) -> None:  # the parent owns the connections
        pass
