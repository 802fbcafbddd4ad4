"""A node: one host (or one logical host) of a cluster."""

from __future__ import annotations

from dataclasses import dataclass, field

from ducttape.remote.account import RemoteAccount


@dataclass(eq=False)
class Node:
    """A named node with its RemoteAccount.

    ``address`` is how other nodes and services reach it (services bind to it); ``scratch`` is the
    root under which services keep their files; ``build_dir`` is where the outputs of
    ``invoke build`` are found on this node; ``type`` is its node type ('' for none), which
    tests may ask for (``@cluster(node_types={"broker": 3})``). Nodes compare by identity.
    """

    name: str
    account: RemoteAccount = field(repr=False)
    address: str
    scratch: str
    build_dir: str
    type: str = ""

    def __hash__(self) -> int:
        return id(self)
