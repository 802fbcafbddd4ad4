from ducktape.mark.resource import cluster
from ducktape.tests.test import Test

from dtsample.services.ticker import TickerService


class SetupTeardownTest(Test):
    """ducktape's newer names: setup()/teardown(); the runner stops the services afterwards, newest first."""

    def setup(self):
        self.first = TickerService(self.test_context, 1, greeting="one")
        self.second = TickerService(self.test_context, 1, greeting="two")
        self.first.start()
        self.second.start()

    @cluster(num_nodes=2)
    def test_teardown_order(self):
        assert self.first.alive(self.first.nodes[0]) and self.second.alive(self.second.nodes[0])
        assert self.second.nodes[0].account.hostname != self.first.nodes[0].account.hostname

    def teardown(self):
        with open(self.test_context.local_scratch_dir + "/order", "a") as f:
            f.write("teardown\n")
