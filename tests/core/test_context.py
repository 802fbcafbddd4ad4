"""TestContext: services register in creation order; teardown stops them newest first,
collects their logs and frees their nodes; the cluster knows nothing of services."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support import REPO

from ducttape.cluster import load_cluster, usage
from ducttape.runner.context import TestContext, current
from ducttape.services import Service


class Logged(Service):
    """Writes a line to its log and sleeps; records the order it was stopped in."""

    stopped: list[str] = []

    def start_node(self, node):
        monitor = node.account.monitor_log(self.path(node, "service.log"))
        self.spawn(node, f"sh -c 'echo hello from {self.service_id}; exec sleep 600'")
        self.wait_for_log(node, monitor, "^hello", timeout=30)

    def stop_node(self, node, clean_shutdown=True):
        Logged.stopped.append(self.service_id)
        super().stop_node(node, clean_shutdown)


class Stubborn(Logged):
    def stop_node(self, node, clean_shutdown=True):
        super().stop_node(node, clean_shutdown)
        raise RuntimeError("would not stop")


@pytest.fixture
def cluster():
    c = load_cluster("localhost:4")
    yield c
    c.close()


def test_teardown_stops_newest_first_collects_logs_and_frees_nodes(cluster, tmp_path):
    Logged.stopped = []
    with TestContext(cluster, str(tmp_path), {"size": "seed"}) as ctx:
        assert current() is ctx
        first, second = Logged(cluster, 2), Logged(cluster, 1)
        first.start()
        second.start()
        assert [s.service_id for s in ctx.services] == ["Logged-1", "Logged-2"]
        assert cluster.num_available == 1
    assert current() is None
    assert Logged.stopped == ["Logged-2", "Logged-1", "Logged-1"]  # one per node of Logged-1
    assert cluster.num_available == 4
    for service, node in (("Logged-1", "node1"), ("Logged-1", "node2"), ("Logged-2", "node3")):
        with open(tmp_path / service / node / "service.log") as f:
            assert f.read() == f"hello from {service}\n"
    assert not any(first.alive(n) for n in cluster.nodes)


def test_a_service_that_fails_to_stop_does_not_keep_the_others(cluster, tmp_path):
    ctx = TestContext(cluster, str(tmp_path))
    ctx.activate()
    try:
        kept, stubborn = Logged(cluster, 1), Stubborn(cluster, 1)
        kept.start()
        stubborn.start()
        node = kept.nodes[0]
        errors = ctx.teardown()
    finally:
        ctx.deactivate()
    assert [str(e) for e in errors] == ["would not stop"]
    assert not kept.alive(node) and cluster.num_available == 4


def test_services_outside_a_test_are_numbered_per_cluster(cluster):
    assert [Logged(cluster).service_id, Logged(cluster).service_id] == ["Logged-1", "Logged-2"]


def test_the_cluster_layer_does_not_import_services_or_the_runner():
    code = ("import sys, ducttape.cluster; "
            "print(sorted(m for m in sys.modules if m.startswith(('ducttape.services', 'ducttape.runner'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_backends_describe_their_syntax():
    assert usage() == ("use localhost, localhost:N (N logical nodes), localhost:TYPE=N,... (nodes of node "
                       "types, e.g. localhost:broker=3,client=1,2), json:FILE, vagrant, aws")
