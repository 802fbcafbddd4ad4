"""ducktape.mark.resource: ``cluster``, a test case's node need."""

from __future__ import annotations

from ducttape.compat.ducktape.mark import marks_of, publish


def cluster(num_nodes: int | None = None, cluster_spec=None):
    """The number of nodes the cases generated below this mark need (those without a need yet);
    on a function without cases, its need. ``cluster_spec`` (a ClusterSpec) is the same as
    ``num_nodes=cluster_spec.size()``."""
    need = cluster_spec.size() if cluster_spec is not None else num_nodes
    if not isinstance(need, int) or need < 1:
        raise ValueError(f"@cluster needs num_nodes=N (a positive number) or cluster_spec=..., not {need!r}")

    def mark(fn):
        marks = marks_of(fn)
        if not marks.cases:
            marks.default_need = marks.default_need or need
        for case in marks.cases:
            if case.num_nodes is None:
                case.num_nodes = need
        publish(fn)
        return fn
    return mark
