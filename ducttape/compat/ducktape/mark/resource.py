"""ducktape.mark.resource: ``cluster``, a test case's node need."""

from __future__ import annotations

from ducttape.compat.ducktape.mark import marks_of, publish


def cluster(num_nodes: int | None = None, cluster_spec=None, **_hints):
    """The number of nodes the cases generated below this mark need (those without a need yet);
    on a function without cases, its need. ``cluster_spec`` (a ClusterSpec) is the same as
    ``num_nodes=cluster_spec.size()``, its nodes' ``node_type`` asking for nodes of those types;
    0 nodes (``num_nodes=0``, ``ClusterSpec.empty()``) is a test that needs none. Other hints
    ducktape accepts (and ignores) are accepted."""
    need = cluster_spec.size() if cluster_spec is not None else num_nodes
    types = cluster_spec.node_types() if cluster_spec is not None else {}
    if isinstance(need, bool) or not isinstance(need, int) or need < 0:
        raise ValueError(f"@cluster needs num_nodes=N (a number from 0) or cluster_spec=..., not {need!r}")

    def mark(fn):
        marks = marks_of(fn)
        if not marks.cases and marks.default_need is None:
            marks.default_need, marks.default_types = need, types
        for case in marks.cases:
            if case.num_nodes is None:
                case.num_nodes, case.node_types = need, types
        publish(fn)
        return fn
    return mark
