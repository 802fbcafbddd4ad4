"""A web server on 3 nodes: started with a readiness check, bounced on one node, measured.

    invoke test docs/examples/web_service.py
"""

import time

from ducttape.runner import Test, cluster
from ducttape.services import Service

PORT = 8765


class WebService(Service):
    """Python's http.server on each node, serving a page from the service's own folder."""

    def start_node(self, node):
        node.account.create_file(self.path(node, "index.html"), f"hello from {node.name}\n")
        # output to self.path(node, "service.log"), pid to self.pid_file(node)
        self.spawn(node, f"python3 -m http.server {PORT} --bind {node.address}")
        # ready once it answers; fails at once, quoting the log's cause, if the process exits
        self.wait_for_http(node, PORT, "/index.html", timeout=30)

    def fetch(self, node):
        """The page as the server on ``node`` serves it."""
        return node.account.ssh_output(f"curl -sf http://{node.address}:{PORT}/index.html")


class WebServiceTest(Test):
    """Start the server on 3 nodes, bounce one, check that every node serves its page."""

    @cluster(num_nodes=3)
    def test_bounce(self):
        web = WebService(self.cluster, num_nodes=3)
        web.start()  # on 3 nodes in parallel; returns when every start_node has
        victim = web.nodes[1]
        before = web.pids(victim)
        began = time.monotonic()
        web.bounce(victim)  # stop_node (SIGTERM), then start_node again
        bounce_s = time.monotonic() - began
        assert web.pids(victim) != before, f"{victim.name} kept its old process"
        for node in web.nodes:
            assert web.fetch(node) == f"hello from {node.name}\n", f"{node.name} serves another page"
        # the runner stops the service after the test and keeps its logs in the results
        return {"bounced": victim.name, "bounce": {"value": round(bounce_s, 3), "unit": "s"}}
