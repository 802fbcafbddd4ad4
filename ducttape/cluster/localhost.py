"""The embedded default cluster: N logical nodes on this machine."""

from __future__ import annotations

import os
import shutil
import tempfile

from ducttape.build import layout
from ducttape.cluster.cluster import Cluster
from ducttape.cluster.lease import Place, peek
from ducttape.cluster.node import Node
from ducttape.errors import ClusterError, ConfigError
from ducttape.remote.local import LocalAccount
from ducttape.validate import NAME_RE

DEFAULT_NODES = 8
DEFAULT_NET = "127.0.1"
SPARE_NETS = tuple(f"127.{k}.1" for k in range(10, 42))
"""Prefixes a session takes, in order, when DEFAULT_NET is leased by another session."""
LEASE_DIR = os.path.join(tempfile.gettempdir(), "ducttape-leases")
"""Where this machine's localhost sessions keep their leases, one file per loopback prefix."""


def loopback_net() -> str:
    """The ``127.X.Y`` prefix of the logical nodes' addresses (``$DUCTTAPE_LOCALHOST_NET``)."""
    net = os.environ.get("DUCTTAPE_LOCALHOST_NET") or DEFAULT_NET
    parts = net.split(".")
    if len(parts) != 3 or parts[0] != "127" or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ClusterError(f"DUCTTAPE_LOCALHOST_NET={net!r} is not a loopback prefix like 127.0.1")
    return net


def net_place(net: str) -> Place:
    """The lease of loopback prefix ``net`` on this machine."""
    return Place(LocalAccount("localhost"), os.path.join(LEASE_DIR, f"{net}.lease"), f"localhost nodes {net}.*")


def free_net() -> str:
    """``$DUCTTAPE_LOCALHOST_NET`` if set (not empty), else the first of DEFAULT_NET and SPARE_NETS that no
    live session holds (a stale lease counts as free)."""
    if os.environ.get("DUCTTAPE_LOCALHOST_NET"):
        return loopback_net()
    for net in (DEFAULT_NET, *SPARE_NETS):
        held = peek(net_place(net))
        if held is None or held.stale:
            return net
    raise ClusterError(
        f"every loopback prefix ducttape picks from ({DEFAULT_NET}, "
        f"{SPARE_NETS[0]}-{SPARE_NETS[-1]}) is leased by a running session; set "
        "DUCTTAPE_LOCALHOST_NET to another 127.X.Y"
    )


class LocalhostCluster(Cluster):
    """Logical nodes ``node1..nodeN`` on this machine.

    Each gets its own scratch directory and its own loopback address 127.0.1.<i>, so services
    that bind to ``node.address`` can use the same ports on every logical node. Builds are used
    in place from the repository's ``build/`` folder (or ``$DUCTTAPE_BUILD_DIR``). Sessions on
    one machine keep apart by themselves: each leases its prefix, and a session takes the first
    prefix no other session holds (``127.0.1``, then ``127.10.1``, ``127.11.1``, ...), unless
    ``$DUCTTAPE_LOCALHOST_NET`` names one.
    """

    syntax = (
        "localhost, localhost:N (N logical nodes), localhost:TYPE=N,... (nodes of node "
        "types, e.g. localhost:broker=3,client=1,2)"
    )

    @classmethod
    def from_arg(cls, arg: str, spec: str) -> "LocalhostCluster":
        if not arg:
            return cls()
        types: list[str] = []
        for part in arg.split(","):
            node_type, _, count = part.rpartition("=")
            if not (count.isdigit() and int(count) >= 1) or (node_type and not NAME_RE.match(node_type)):
                raise ConfigError(
                    f"bad cluster {spec!r}: N in localhost:N is a number from 1 to 254 "
                    "(localhost:TYPE=N,... for typed nodes, TYPE a name such as broker)"
                )
            types += [node_type] * int(count)
        if len(types) > 254:
            raise ConfigError(f"bad cluster {spec!r}: N in localhost:N is a number from 1 to 254")
        return cls(len(types), node_types=types)

    def __init__(
        self, num_nodes: int = DEFAULT_NODES, scratch_root: str | None = None, node_types: list[str] | None = None
    ):
        """``node_types``: the type of each node ('' for none), in order."""
        if not 1 <= num_nodes <= 254:
            raise ValueError(f"a localhost cluster has 1 to 254 nodes, not {num_nodes}")
        node_types = node_types or [""] * num_nodes
        self._own_scratch = scratch_root is None
        self.scratch_root = scratch_root or tempfile.mkdtemp(prefix="ducttape-localhost-")
        build_dir = str(layout.build_dir())
        self.net = net = free_net()
        nodes = []
        for i in range(1, num_nodes + 1):
            scratch = os.path.join(self.scratch_root, f"node{i}")
            os.makedirs(scratch, exist_ok=True)
            address = f"{net}.{i}"
            nodes.append(
                Node(f"node{i}", LocalAccount(f"node{i}", address), address, scratch, build_dir, node_types[i - 1])
            )
        super().__init__(nodes)
        self.description = f"localhost cluster ({num_nodes} nodes)"

    def bigger_hint(self, n: int) -> str:
        return f"use --cluster localhost:{n}"

    def leave_running(self) -> list[str]:
        if not self._own_scratch:
            return []
        self._own_scratch = False  # the nodes' folders stay for what runs in them
        return [self.scratch_root]

    def lease_places(self) -> list[Place]:
        """The lease of this cluster's loopback prefix (the nodes share this machine)."""
        return [net_place(self.net)]

    def close(self) -> None:
        super().close()
        if self._own_scratch:
            shutil.rmtree(self.scratch_root, ignore_errors=True)
