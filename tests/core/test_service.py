"""Services on a localhost cluster: lifecycle, bounce, background workers, run_parallel."""

from __future__ import annotations

import re
import time

import pytest

from ducttape.cluster import load_cluster
from ducttape.errors import TimeoutError  # noqa: A004 - ducttape's own
from ducttape.remote import RemoteCommandError
from ducttape.services import BackgroundThreadService, Service, ServiceError, run_parallel


class Echo(Service):
    """Writes its index and waits for SIGTERM."""

    def start_node(self, node):
        monitor = node.account.monitor_log(self.path(node, "service.log"))
        self.spawn(node, f"sh -c 'echo up {self.idx(node)} $EXTRA; exec sleep 600'", env={"EXTRA": "x"})
        monitor.wait_until(rf"up {self.idx(node)} x", timeout=10)


class Starter(Service):
    """Runs ``script`` and waits for the line 'ready' the way product services do."""

    def __init__(self, cluster, script):
        super().__init__(cluster, 1)
        self.script = script

    def start_node(self, node):
        monitor = node.account.monitor_log(self.path(node, self.logs["output"]))
        self.spawn(node, f"sh -c {self.script!r}")
        self.wait_for_log(node, monitor, "^ready$", timeout=3)


class Job(Service):
    """A finite piece of work per node."""

    def start_node(self, node):
        self.spawn(node, "sh -c 'sleep 0.3; echo done'")


class Counter(BackgroundThreadService):
    """Reads a remote command's output in a thread; fails on the line 'boom'."""

    def __init__(self, cluster, num_nodes, script):
        super().__init__(cluster, num_nodes)
        self.script = script

    def _worker(self, idx, node):
        for line in self.capture(node, self.script, timeout=60):
            if line == "boom":
                raise RuntimeError(f"worker {idx} read boom")
            with self.stats_lock:
                self.stats.append({"node": idx, "line": line})
        self.results[idx - 1] = {"lines": sum(1 for s in self.stats if s["node"] == idx)}


@pytest.fixture
def cluster():
    c = load_cluster("localhost:4")
    yield c
    c.close()


def test_start_bounce_stop(cluster):
    svc = Echo(cluster, num_nodes=3)
    assert svc.service_id == "Echo-1" and Echo(cluster, 1).service_id == "Echo-2"
    svc.start()
    assert cluster.num_available == 1 and [svc.idx(n) for n in svc.nodes] == [1, 2, 3]
    pids = [svc.pids(n) for n in svc.nodes]
    assert all(pids)
    svc.bounce(svc.nodes[0], clean_shutdown=False)
    assert svc.pids(svc.nodes[0]) not in ([], pids[0]) and svc.pids(svc.nodes[1]) == pids[1]
    workdirs = [svc.workdir(n) for n in svc.nodes]
    nodes = list(svc.nodes)
    svc.stop()
    assert svc.nodes == [] and cluster.num_available == 4
    assert not any(n.account.exists(w) for n, w in zip(nodes, workdirs, strict=True))
    assert not any(n.account.alive(p[0]) for n, p in zip(nodes, pids, strict=True))
    svc.stop()  # idempotent


def test_run_waits_for_finite_work(cluster):
    job = Job(cluster, num_nodes=2)
    start = time.monotonic()
    job.run(timeout=30)
    assert 0.3 <= time.monotonic() - start < 10 and cluster.num_available == 4


def test_wait_times_out(cluster):
    svc = Echo(cluster, num_nodes=1)
    svc.start()
    with pytest.raises(TimeoutError, match="Echo-1 on node1 still running after 0.3s"):
        svc.wait(timeout=0.3)
    svc.stop()


def test_background_thread_service_collects_results(cluster):
    svc = Counter(cluster, 2, "sh -c 'for i in 1 2 3; do echo $i; done'")
    svc.run(timeout=30)
    assert svc.results == [{"lines": 3}, {"lines": 3}] and len(svc.stats) == 6


def test_worker_errors_are_raised_by_wait(cluster):
    svc = Counter(cluster, 1, "sh -c 'echo 1; echo boom'")
    svc.start()
    with pytest.raises(RuntimeError, match="worker 1 read boom"):
        svc.wait(timeout=30)
    svc.stop()
    assert cluster.num_available == 4


def test_check_raises_a_failed_workers_error_once(cluster):
    from ducttape.remote.account import poll
    svc = Counter(cluster, 1, "sh -c 'echo 1; echo boom'")
    svc.start()
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="worker 1 read boom"):
        poll(lambda: False, 30, lambda: "never", guard=svc.check)
    assert time.monotonic() - start < 10
    svc.check()  # raised once
    svc.stop()


def test_failing_remote_command_in_worker_is_raised(cluster):
    svc = Counter(cluster, 1, "sh -c 'echo 1; exit 9'")
    with pytest.raises(RemoteCommandError, match="exited 9"):
        svc.run(timeout=30)


def test_stopping_a_running_worker_is_not_an_error(cluster):
    svc = Counter(cluster, 1, "sh -c 'echo ready; exec sleep 600'")
    svc.start()
    deadline = time.monotonic() + 10
    while not svc.stats and time.monotonic() < deadline:
        time.sleep(0.05)
    assert svc.stats == [{"node": 1, "line": "ready"}]
    svc.stop()  # kills the remote command under the worker; no error
    assert cluster.num_available == 4


def test_run_parallel(cluster):
    a, b = Job(cluster, 1), Job(cluster, 2)
    start = time.monotonic()
    run_parallel(a, b, timeout=30)
    assert time.monotonic() - start < 10 and cluster.num_available == 4


def test_too_many_nodes(cluster):
    from ducttape.errors import ClusterError
    with pytest.raises(ClusterError, match="asked for 5 nodes"):
        Echo(cluster, 5).start()


@pytest.mark.ssh
def test_failing_worker_command_is_raised_over_ssh(json_cluster_file):
    """Over SSH the login shell leads its process group, so plain setsid would fork and exit 0."""
    from ducttape.cluster.json_file import JsonCluster
    cluster = JsonCluster(json_cluster_file)
    try:
        svc = Counter(cluster, 1, "sh -c 'echo 1; sleep 0.2; exit 9'")
        with pytest.raises(RemoteCommandError, match="exited 9"):
            svc.run(timeout=30)
        assert svc.stats == [{"node": 1, "line": "1"}]
    finally:
        cluster.close()


def test_a_process_that_dies_while_starting_fails_fast_with_its_log(cluster):
    script = ("echo loading config; echo 'ERROR bad value x for num.partitions'; "
              "echo 'java.lang.Exception: boom'; echo '\tat Foo.bar(Foo.java:1)'; exit 1")
    svc = Starter(cluster, script.replace("'", '"'))
    start = time.monotonic()
    with pytest.raises(ServiceError) as err:
        svc.start()
    assert time.monotonic() - start < 2.5, "must not wait out the 3 s timeout"
    msg = str(err.value)
    assert msg.startswith("Starter-1 on node1 exited while waiting for /^ready$/")
    # the lines that say why first, then the last ones; then where the log's copy is
    assert ("; cause: ERROR bad value x for num.partitions | java.lang.Exception: boom; "
            "last lines: loading config; log: node1:") in msg, msg
    assert msg.endswith("/Starter-1/service.log"), msg
    svc.stop()
    assert cluster.num_available == 4


def test_a_start_that_times_out_quotes_the_log(cluster):
    svc = Starter(cluster, "echo still warming up; exec sleep 600")
    with pytest.raises(TimeoutError, match=r"no line matching /\^ready\$/ .* within 3s.*"
                                           r"the process listens on no TCP port; "
                                           r"last lines: still warming up; log: node1:.*service.log$"):
        svc.start()
    svc.stop()
    assert cluster.num_available == 4


def test_wait_for_http_fails_fast_when_the_process_dies(cluster):
    class Web(Service):
        def start_node(self, node):
            self.spawn(node, "sh -c 'echo cannot bind; exit 2'")
            self.wait_for_http(node, 1, timeout=20)

    web = Web(cluster, 1)
    start = time.monotonic()
    address = re.escape(cluster.nodes[0].address)
    with pytest.raises(ServiceError, match=rf"exited while waiting for http://{address}:1/; "
                                           r"cause: cannot bind; log: node1:.*service.log$"):
        web.start()
    assert time.monotonic() - start < 10
    web.stop()
