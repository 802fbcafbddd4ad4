"""Scenario fixture: a test whose remote command exits 3 while a service runs."""

import os

from ducttape.runner import Test, cluster
from ducttape.services import Service

MARKER = os.environ.get("DUCTTAPE_TEST_MARKER", "ducttape-failing")


class SleeperService(Service):
    def start_node(self, node):
        self.spawn(node, f"sh -c 'exec -a {MARKER} sleep 600'")


class FailingTest(Test):
    @cluster(num_nodes=2)
    def test_exit_3(self):
        SleeperService(self.cluster, num_nodes=2).start()
        self.cluster.nodes[0].account.ssh("echo 'disk on fire' >&2; exit 3")
