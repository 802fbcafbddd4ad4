"""Clusters hand out nodes; backends: ``localhost`` (default), ``json:FILE``, ``vagrant``, ``aws``."""

from __future__ import annotations

import importlib

from ducttape.cluster.cluster import Cluster, ClusterView
from ducttape.cluster.node import Node
from ducttape.errors import ConfigError

BACKENDS = {
    # name: (module, factory), imported only when chosen
    "localhost": ("ducttape.cluster.localhost", "LocalhostCluster"),
    "json": ("ducttape.cluster.json_file", "JsonCluster"),
    "vagrant": ("ducttape.cluster.vagrant", "VagrantCluster"),
    "aws": ("ducttape.cluster.aws", "EC2Cluster"),
}
USAGE = "use localhost, localhost:N (N logical nodes), json:FILE, vagrant or aws"


def load_cluster(spec: str = "localhost") -> Cluster:
    """Make the cluster named by ``spec``: ``localhost``, ``localhost:N``, ``json:FILE`` or
    ``vagrant`` or ``aws``."""
    name, _, arg = spec.partition(":")
    if name not in BACKENDS:
        raise ConfigError(f"unknown cluster {spec!r}: {USAGE}")
    module, factory = BACKENDS[name]
    cls = getattr(importlib.import_module(module), factory)
    if name == "localhost":
        if arg and not (arg.isdigit() and 1 <= int(arg) <= 254):
            raise ConfigError(f"bad cluster {spec!r}: N in localhost:N is a number from 1 to 254")
        return cls(int(arg)) if arg else cls()
    if name in ("vagrant", "aws"):
        if arg:
            raise ConfigError(f"bad cluster {spec!r}: {name} takes no argument")
        return cls()
    if not arg:
        raise ConfigError(f"bad cluster {spec!r}: {name} needs a file, as in {name}:cluster.json")
    return cls(arg)


__all__ = ["Cluster", "ClusterView", "Node", "load_cluster"]
