"""A ducttape module beside the ducktape-style ones: one session runs both."""

from ducttape.runner import Test, cluster


class NativeTest(Test):
    @cluster(num_nodes=1)
    def test_native(self):
        [node] = self.cluster.nodes
        return {"echo": node.account.ssh_output("echo native", timeout=30).strip()}
