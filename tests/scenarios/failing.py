"""Scenario fixture: a test whose remote command exits 3 while a service runs."""

import os

from ducttape.runner import Test, cluster
from ducttape.services import Service

MARKER = os.environ.get("DUCTTAPE_TEST_MARKER", "ducttape-failing")


class SleeperService(Service):
    def start_node(self, node):
        self.spawn(node, f"sh -c 'sleep 600; echo {MARKER}'")


class FailingTest(Test):
    @cluster(num_nodes=2)
    def test_exit_3(self):
        sleepers = SleeperService(self.cluster, num_nodes=2)
        sleepers.start()
        assert all(sleepers.pids(node) for node in sleepers.nodes), "sleepers did not start"
        self.cluster.nodes[0].account.ssh("echo 'disk on fire' >&2; exit 3")
