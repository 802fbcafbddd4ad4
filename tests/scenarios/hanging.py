"""Scenario fixture: a test that hangs (hits the per-test timeout), then one that passes."""

import os
import threading

from ducttape.runner import Test, cluster
from ducttape.services import Service

MARKER = os.environ.get("DUCTTAPE_TEST_MARKER", "ducttape-hanging")


class SleeperService(Service):
    def start_node(self, node):
        self.spawn(node, f"sh -c 'sleep 600; echo {MARKER}'")


class HangingTest(Test):
    @cluster(num_nodes=1)
    def test_hangs(self):
        SleeperService(self.cluster, num_nodes=1).start()
        self.logger.info("about to hang")
        threading.Event().wait()


class AfterTest(Test):
    @cluster(num_nodes=1)
    def test_runs_next(self):
        self.logger.info("still running after the hang")
        return {"ran": True}
