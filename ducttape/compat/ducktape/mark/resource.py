"""ducktape.mark.resource: ``cluster``, the node need of a test's cases."""

from __future__ import annotations

from ducttape.compat.ducktape.mark import Mark, add_mark


class _Cluster(Mark):
    def __init__(self, metadata: dict):
        self.metadata = metadata

    def apply(self, cases):
        if not cases:
            raise ValueError("@cluster is applied to no test case (put it above @parametrize/@matrix)")
        for case in cases:
            if not case.cluster:
                case.cluster = self.metadata
        return cases


def cluster(**kwargs):
    """The node need (``num_nodes=N``, or ``cluster_spec=`` a ClusterSpec whose nodes'
    ``node_type`` ask for nodes of those types) of the cases made below this mark that have
    none yet; 0 nodes (``num_nodes=0``, ``ClusterSpec.empty()``) is a test that needs none.
    Other hints ducktape accepts (and ignores) are accepted."""
    need = kwargs["cluster_spec"].size() if kwargs.get("cluster_spec") is not None else kwargs.get("num_nodes")
    if need is not None and (isinstance(need, bool) or not isinstance(need, int) or need < 0):
        raise ValueError(f"@cluster needs num_nodes=N (a number from 0) or cluster_spec=..., not {need!r}")
    return lambda fn: add_mark(fn, _Cluster(dict(kwargs)))
