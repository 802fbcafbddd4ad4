"""Scenario fixture: a test that holds its nodes, a service running on each, until told to end.

DUCTTAPE_HOLD_DIR: a local folder. The test writes ``started`` there once its services run and
ends when ``go`` appears there (at most 300 s later); it passes only if its services still run
then, from the same processes in the same folders.
"""

import os
import time

from ducttape.runner import Test, cluster
from ducttape.services import Service

HOLD_DIR = os.environ.get("DUCTTAPE_HOLD_DIR", "/tmp")


class HeldService(Service):
    def start_node(self, node):
        self.spawn(node, "sleep 900")


class HoldingTest(Test):
    @cluster(num_nodes=2)
    def test_hold(self):
        service = HeldService(self.cluster, num_nodes=2)
        service.start()
        before = {node.name: service.pids(node) for node in service.nodes}
        with open(os.path.join(HOLD_DIR, "started"), "w") as f:
            f.write("".join(f"{node.name} {node.address}\n" for node in service.nodes))
        deadline = time.monotonic() + 300
        while not os.path.exists(os.path.join(HOLD_DIR, "go")):  # the test driver's signal
            assert time.monotonic() < deadline, "no go within 300 s"
            time.sleep(0.1)
        after = {node.name: service.pids(node) for node in service.nodes}
        assert after == before and all(service.alive(node) for node in service.nodes), (before, after)
        return {"pids": after}
