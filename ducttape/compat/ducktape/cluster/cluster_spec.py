"""ducktape.cluster.cluster_spec: ``ClusterSpec``, a test's or a service's node need."""

from __future__ import annotations

LINUX = "linux"


class NodeSpec:
    """One node of a spec (ducttape's nodes are all Linux), of ``node_type`` if given (the
    ``type`` of a node in the cluster file, Vagrantfile.local or ec2.yaml)."""

    def __init__(self, operating_system: str = LINUX, node_type: str | None = None):
        self.operating_system = operating_system
        self.node_type = node_type


class ClusterSpec:
    """A number of nodes (``size()``), some of given types (``node_types()``)."""

    def __init__(self, nodes=None):
        self.nodes = list(nodes or [])

    @staticmethod
    def simple_linux(num_nodes: int, node_type: str | None = None) -> "ClusterSpec":
        return ClusterSpec([NodeSpec(LINUX, node_type) for _ in range(num_nodes)])

    @staticmethod
    def from_nodes(nodes) -> "ClusterSpec":
        return ClusterSpec(nodes)

    def node_types(self) -> dict[str, int]:
        """How many nodes of each type the spec asks for (untyped nodes left out)."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            if getattr(node, "node_type", None):
                counts[node.node_type] = counts.get(node.node_type, 0) + 1
        return counts

    def add(self, other: "ClusterSpec") -> "ClusterSpec":
        """This spec with the nodes of ``other`` too."""
        self.nodes += list(other.nodes)
        return self

    @staticmethod
    def empty() -> "ClusterSpec":
        return ClusterSpec()

    def size(self) -> int:
        return len(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"ClusterSpec({len(self.nodes)} nodes)"
