"""Benchmarks B, C and D on ducttape; run by run.py, prints one JSON line.

    python3 benchmarks/work_ducttape.py remote CLUSTER_FILE N
    python3 benchmarks/work_ducttape.py service CLUSTER_SPEC CYCLES     (json:FILE or localhost:3)
    python3 benchmarks/work_ducttape.py copy CLUSTER_FILE REMOTE_FILE LOCAL_DIR
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from probe import RemoteOps, emit, timed_calls

from ducttape.cluster import load_cluster
from ducttape.services import Service


def remote(cluster_file: str, n: str) -> None:
    """N calls of ``ssh("true")`` and of ``ssh_output("echo hi")`` on one node."""
    cluster = load_cluster(f"json:{cluster_file}")
    account = cluster.nodes[0].account
    try:
        first = timed_calls(lambda: account.ssh("true"), 1)[0]
        true = timed_calls(lambda: account.ssh("true"), int(n))

        def echo() -> None:
            assert account.ssh_output("echo hi") == "hi\n"

        echo_times = timed_calls(echo, int(n))
    finally:
        cluster.close()
    emit({"first_s": first, "true_s": true, "echo_s": echo_times})


class SleeperService(Service):
    """One background process per node, started with ``spawn`` (pid file, log, stop, clean)."""

    def start_node(self, node):
        self.spawn(node, "sleep 3600")


def service(cluster_spec: str, cycles: str) -> None:
    """CYCLES times: start the service on 3 nodes, check each node's process is alive, stop."""
    ops = RemoteOps()
    cluster = load_cluster(cluster_spec)
    try:
        cluster.check()  # connections open, as they are when a test starts
        svc = SleeperService(cluster, num_nodes=3)
        times, counts = [], []
        for _ in range(int(cycles)):
            before = ops.snapshot()
            start = time.perf_counter()
            svc.start()
            alive = [svc.alive(node) for node in svc.nodes]
            svc.stop()
            times.append(time.perf_counter() - start)
            counts.append([b - a for a, b in zip(before, ops.snapshot(), strict=True)])
            assert all(alive), f"not alive on every node: {alive}"
    finally:
        cluster.close()
    emit({"cycle_s": times, "execs": [c[0] for c in counts], "sftp": [c[1] for c in counts]})


def copy(cluster_file: str, remote_file: str, local_dir: str) -> None:
    """``copy_from`` a small file (to open the file channel), then the big one, timed."""
    cluster = load_cluster(f"json:{cluster_file}")
    account = cluster.nodes[0].account
    try:
        account.copy_from(remote_file + ".small", os.path.join(local_dir, "small"))
        target = os.path.join(local_dir, "big")
        start = time.perf_counter()
        account.copy_from(remote_file, target)
        seconds = time.perf_counter() - start
    finally:
        cluster.close()
    emit({"seconds": seconds, "bytes": os.path.getsize(target)})


if __name__ == "__main__":
    {"remote": remote, "service": service, "copy": copy}[sys.argv[1]](*sys.argv[2:])
