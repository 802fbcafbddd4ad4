"""ducktape.cluster.cluster: ``ClusterNode`` and the cluster a ducktape test sees.

A test's ducttape nodes appear as ClusterNodes (``node.account`` with ducktape's calls,
``hostname`` the node's name where it resolves to the node, as in ducktape, else its address; and
room for the attributes tests put on nodes, e.g. ``node.version``); the same ducttape node is
always the same ClusterNode within a test.
"""

from __future__ import annotations

import shlex

from ducttape.cluster import Cluster, Node
from ducttape.compat.ducktape.cluster.cluster_spec import ClusterSpec
from ducttape.compat.ducktape.cluster.remoteaccount import RemoteAccount


class ClusterNode:
    """One node: ``account`` (ducktape's RemoteAccount calls), ``name``; ``node`` is the
    ducttape node under it."""

    def __init__(self, node: Node):
        self.node = node
        self.name = node.name
        self.account = RemoteAccount(node.account, _hostname(node), getattr(node.account, "user", None))
        self.account.externally_routable_ip = node.address
        # ducktape's ssh_hostname is where the driver reaches the node; ducttape's SSH may go
        # through a forwarded port, so other ports (trogdor's REST API) are reached at the address
        self.account.ssh_hostname = node.address
        self.os = "linux"

    @property
    def operating_system(self) -> str:
        return self.os

    def __repr__(self) -> str:
        return f"<ClusterNode {self.name} ({self.account.hostname})>"


def _hostname(node: Node) -> str:
    """The node's name if it resolves to the node's address on the node itself (vagrant workers:
    ducktape's services put it in listeners and certificates), else its address."""
    found = node.account.ssh_output(f"getent hosts {shlex.quote(node.name)}", allow_fail=True, timeout=30)
    return node.name if node.address in found.split() else node.address


class TestCluster:
    """The nodes of one test: ``alloc(spec)`` / ``request(n)`` hand out ClusterNodes of the
    test's ducttape cluster, ``free`` / ``free_single`` give them back."""

    __test__ = False

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self._wrapped: dict[int, ClusterNode] = {}

    def wrap(self, node: Node) -> ClusterNode:
        wrapped = self._wrapped.get(id(node))
        if wrapped is None:
            wrapped = self._wrapped[id(node)] = ClusterNode(node)
        return wrapped

    def __len__(self) -> int:
        return len(self.cluster)

    def num_available_nodes(self) -> int:
        return self.cluster.num_available

    def available(self) -> ClusterSpec:
        return ClusterSpec.simple_linux(self.cluster.num_available)

    def alloc(self, cluster_spec: ClusterSpec) -> list[ClusterNode]:
        """Nodes for ``cluster_spec``: those of each node type it names, then untyped ones."""
        types = cluster_spec.node_types()
        taken = []
        try:
            for node_type, count in types.items():
                taken += self.cluster.request(count, node_type)
            taken += self.cluster.request(cluster_spec.size() - sum(types.values()))
        except Exception:
            if taken:
                self.cluster.free(taken)
            raise
        return [self.wrap(node) for node in taken]

    def request(self, num_nodes: int) -> list[ClusterNode]:
        return [self.wrap(node) for node in self.cluster.request(num_nodes)]

    def free(self, nodes) -> None:
        nodes = nodes if isinstance(nodes, (list, tuple)) else [nodes]
        self.cluster.free([n.node for n in nodes])

    def free_single(self, node: ClusterNode) -> None:
        self.cluster.free([node.node])
