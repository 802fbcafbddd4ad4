"""ducktape.cluster.cluster_spec: ``ClusterSpec``, a test's or a service's node need."""

from __future__ import annotations

LINUX = "linux"


class NodeSpec:
    """One node of a spec (ducttape's nodes are all Linux)."""

    def __init__(self, operating_system: str = LINUX):
        self.operating_system = operating_system


class ClusterSpec:
    """A number of nodes (``size()``)."""

    def __init__(self, nodes=None):
        self.nodes = list(nodes or [])

    @staticmethod
    def simple_linux(num_nodes: int) -> "ClusterSpec":
        return ClusterSpec([NodeSpec() for _ in range(num_nodes)])

    @staticmethod
    def empty() -> "ClusterSpec":
        return ClusterSpec()

    def size(self) -> int:
        return len(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"ClusterSpec({len(self.nodes)} nodes)"
