"""A first scenario: commands on a node of the test's cluster, one that fails, one that hangs.

    invoke test docs/examples/first_test.py
"""

from ducttape.remote import RemoteCommandError
from ducttape.runner import Test, cluster


class FirstTest(Test):
    """Run commands on one node and return what they said."""

    @cluster(num_nodes=1)
    def test_commands(self):
        node = self.cluster.nodes[0]  # the one node this test was given
        kernel = node.account.ssh_output("uname -r").strip()

        # a failing command raises RemoteCommandError; allow_fail=True returns its status instead
        status = node.account.ssh("ls /no/such/dir", allow_fail=True)
        try:
            node.account.ssh("ls /no/such/dir")
            raise AssertionError("a failing command did not raise")
        except RemoteCommandError as exc:
            failed = str(exc)  # on node1: `ls /no/such/dir` exited 2; stderr: ls: cannot access ...

        # every command has a timeout (default 300 s); a command that outlives it is stopped
        try:
            node.account.ssh("sleep 600", timeout=2)
            raise AssertionError("a hanging command did not time out")
        except RemoteCommandError as exc:
            hung = str(exc)  # on node1: `sleep 600` timed out after 2s

        self.logger.info("%s; %s", failed, hung)
        return {"kernel": kernel, "status": status, "failed": failed, "hung": hung}
