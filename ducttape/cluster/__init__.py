"""Clusters hand out nodes; backends: ``localhost`` (default), ``json:FILE``, ``vagrant``, ``aws``."""

from __future__ import annotations

import importlib

from ducttape.cluster.cluster import Cluster, ClusterView
from ducttape.cluster.node import Node
from ducttape.errors import ConfigError

BACKENDS = {
    # the name before the colon in --cluster: "module:Class", imported only when chosen
    "localhost": "ducttape.cluster.localhost:LocalhostCluster",
    "json": "ducttape.cluster.json_file:JsonCluster",
    "vagrant": "ducttape.cluster.vagrant:VagrantCluster",
    "aws": "ducttape.cluster.aws:EC2Cluster",
}


def backend(name: str) -> type[Cluster]:
    """The Cluster class of backend ``name`` (a key of BACKENDS)."""
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def usage() -> str:
    """The --cluster values every backend accepts, as one phrase."""
    return "use " + ", ".join(backend(name).syntax for name in BACKENDS)


def load_cluster(spec: str = "localhost") -> Cluster:
    """Make the cluster named by ``spec``, e.g. ``localhost``, ``localhost:N``, ``json:FILE``
    ``vagrant`` or ``aws`` (see ``usage()``)."""
    name, _, arg = spec.partition(":")
    if name not in BACKENDS:
        raise ConfigError(f"unknown cluster {spec!r}: {usage()}")
    return backend(name).from_arg(arg, spec)


__all__ = ["Cluster", "ClusterView", "Node", "load_cluster", "usage"]
