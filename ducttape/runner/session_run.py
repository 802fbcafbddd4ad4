"""One ``invoke test`` session: choose tests and cluster, check them, run, report."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from ducttape.cluster import load_cluster
from ducttape.errors import ClusterError
from ducttape.runner.discovery import discover
from ducttape.runner.result import PASS
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT, Runner

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_RESULTS = os.path.join(REPO_ROOT, "results")


def run_session(selection: str | None = None, cluster_spec: str = "localhost",
                timeout: float = DEFAULT_TEST_TIMEOUT, results_root: str = DEFAULT_RESULTS,
                out: TextIO = sys.stdout) -> int:
    """Run the selected tests; return the exit code (0 only if every test passed).

    Bad input (unknown test, bad cluster, a cluster too small for a test, an unreachable node)
    raises a DucttapeError before anything is written.
    """
    specs = discover(selection)
    if not specs:
        raise ClusterError(f"no tests found for {selection or 'the scenario modules'}")
    cluster = load_cluster(cluster_spec)
    try:
        too_big = [s for s in specs if s.num_nodes and s.num_nodes > len(cluster)]
        if too_big:
            s = too_big[0]
            raise ClusterError(f"{s.test_id} needs {s.num_nodes} nodes but the {cluster.description} "
                               f"has {len(cluster)}; use a bigger cluster (e.g. --cluster localhost:{s.num_nodes})")
        cluster.check()
        runner = Runner(cluster, results_root, cluster_spec, timeout=timeout, out=out)
        out.write(f"ducttape: {len(specs)} test{'s' * (len(specs) != 1)} on the {cluster.description}; "
                  f"results in {os.path.relpath(runner.session.path)}\n")
        out.flush()
        results = runner.run(specs)
    finally:
        cluster.close()
    if runner.session.interrupted:
        return 130
    return 0 if results and all(r.status == PASS for r in results) else 1
