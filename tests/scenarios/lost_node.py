"""Scenario fixture for tests/core/test_lost_node.py: node "doomed" is cut off by the suite while
a command runs on it; then a test on the healthy node "steady"; then one on "doomed" once the
suite has brought it back (``--param sync=DIR``: the folder both sides signal through)."""

import os

from ducttape.remote.account import poll
from ducttape.runner import Test, cluster


class LostNodeTest(Test):
    def node(self, name):
        return next(n for n in self.cluster.nodes if n.name == name)

    @cluster(num_nodes=2)
    def test_cut_off(self):
        # The pid file tells the suite the command runs (and which process to clean up).
        running = os.path.join(self.params["sync"], "running")
        self.node("doomed").account.ssh(f"echo $$ > {running}; exec sleep 120", timeout=600)

    @cluster(num_nodes=2)
    def test_healthy_node(self):
        return {"echo": self.node("steady").account.ssh_output("echo ok").strip()}

    @cluster(num_nodes=2)
    def test_node_back(self):
        back = os.path.join(self.params["sync"], "back")
        poll(lambda: os.path.exists(back), 120, lambda: f"the suite did not write {back}")
        return {"echo": self.node("doomed").account.ssh_output("echo back").strip()}
