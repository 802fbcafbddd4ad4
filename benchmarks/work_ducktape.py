"""Benchmarks B, C and D on ducktape 0.17.0 (run by run.py with the virtualenv's python); prints
one JSON line. Same arguments as work_ducttape.py; the cluster file is in ducktape's format.

The service is written the way ducktape's own services are: per-node hooks that the base class
calls node after node, a pid file read back with ``ssh_capture``, ``signal`` then ``wait_until``
the pids are no longer ``alive`` (``kill -0``), ``rm -rf`` of the service's folder to clean.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from types import SimpleNamespace

from probe import RemoteOps, emit, timed_calls

from ducktape.cluster.cluster_spec import ClusterSpec
from ducktape.cluster.json import JsonCluster
from ducktape.cluster.remoteaccount import RemoteCommandError
from ducktape.services.service import Service
from ducktape.utils.util import wait_until


def _account(cluster_file: str):
    cluster = JsonCluster(cluster_file=cluster_file)
    return cluster, cluster.alloc(ClusterSpec.simple_linux(1))[0].account


def remote(cluster_file: str, n: str) -> None:
    """N calls of ``ssh("true")`` and of ``ssh_output("echo hi")`` on one node."""
    _cluster, account = _account(cluster_file)
    try:
        first = timed_calls(lambda: account.ssh("true"), 1)[0]
        true = timed_calls(lambda: account.ssh("true"), int(n))

        def echo() -> None:
            assert account.ssh_output("echo hi") == b"hi\n"

        echo_times = timed_calls(echo, int(n))
    finally:
        account.close()
    emit({"first_s": first, "true_s": true, "echo_s": echo_times})


class SleeperService(Service):
    """One background process per node; pid file and log in the node's own folder."""

    def __init__(self, context, num_nodes, root):
        super().__init__(context, num_nodes)
        self.root = root

    def workdir(self, node):
        return f"{self.root}/{node.account.hostname}/{type(self).__name__}"

    def pid_file(self, node):
        return f"{self.workdir(node)}/sleeper.pid"

    def start_node(self, node, **kwargs):
        d = self.workdir(node)
        node.account.mkdirs(d)
        node.account.ssh(f"cd {d} && nohup sleep 3600 >> {d}/sleeper.log 2>&1 & echo $! > {self.pid_file(node)}")

    def pids(self, node):
        try:
            return [int(line) for line in node.account.ssh_capture(f"cat {self.pid_file(node)}")]
        except (RemoteCommandError, ValueError):
            return []

    def alive(self, node):
        return any(node.account.alive(pid) for pid in self.pids(node))

    def stop_node(self, node, clean_shutdown=True, **kwargs):
        pids = self.pids(node)
        sig = signal.SIGTERM if clean_shutdown else signal.SIGKILL
        for pid in pids:
            node.account.signal(pid, sig, allow_fail=True)
        wait_until(lambda: not any(node.account.alive(pid) for pid in pids), timeout_sec=30,
                   err_msg=f"sleeper on {node.account.hostname} did not stop")

    def clean_node(self, node, **kwargs):
        for pid in self.pids(node):
            node.account.signal(pid, signal.SIGKILL, allow_fail=True)
        node.account.ssh(f"rm -rf -- {self.workdir(node)}", allow_fail=False)


def service(cluster_file: str, cycles: str, root: str) -> None:
    """CYCLES times: start the service on 3 nodes, check each node's process is alive, stop."""
    ops = RemoteOps()
    context = SimpleNamespace(cluster=JsonCluster(cluster_file=cluster_file), services=[],
                              logger=logging.getLogger("bench"))
    svc = SleeperService(context, 3, root)
    try:
        for node in svc.nodes:  # connections open, as they are when a test starts
            node.account.ssh("true")
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
        svc.clean()
    finally:
        svc.free()
    emit({"cycle_s": times, "execs": [c[0] for c in counts], "sftp": [c[1] for c in counts]})


def copy(cluster_file: str, remote_file: str, local_dir: str) -> None:
    """``copy_from`` a small file (to open the file channel), then the big one, timed."""
    _cluster, account = _account(cluster_file)
    try:
        account.copy_from(remote_file + ".small", os.path.join(local_dir, "small"))
        target = os.path.join(local_dir, "big")
        start = time.perf_counter()
        account.copy_from(remote_file, target)
        seconds = time.perf_counter() - start
    finally:
        account.close()
    emit({"seconds": seconds, "bytes": os.path.getsize(target)})


if __name__ == "__main__":
    {"remote": remote, "service": service, "copy": copy}[sys.argv[1]](*sys.argv[2:])
