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
    """The node need (``num_nodes=N``, or ``cluster_spec=`` a ClusterSpec) of the cases made
    below this mark that have none yet."""
    need = kwargs["cluster_spec"].size() if kwargs.get("cluster_spec") is not None else kwargs.get("num_nodes")
    if need is not None and (not isinstance(need, int) or need < 1):
        raise ValueError(f"@cluster needs num_nodes=N (a positive number) or cluster_spec=..., not {need!r}")
    return lambda fn: add_mark(fn, _Cluster(dict(kwargs)))
