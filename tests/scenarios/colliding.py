"""Scenario fixture: an HTTP server on each of 3 nodes that share one address, so all but one
die with "Address already in use" while the first answers every readiness probe."""

import os

from ducttape.runner import Test, cluster
from ducttape.services import Service

PORT = int(os.environ.get("DUCTTAPE_TEST_PORT", "18080"))


class WebService(Service):
    def start_node(self, node):
        self.spawn(node, f"python3 -m http.server {PORT} --bind {node.address}")
        self.wait_for_http(node, PORT, timeout=30)


class CollidingTest(Test):
    @cluster(num_nodes=3)
    def test_three_servers(self):
        WebService(self.cluster, num_nodes=3).start()
        return {"started": 3}
