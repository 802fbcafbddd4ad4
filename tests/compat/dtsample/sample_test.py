
from ducktape.errors import TimeoutError  # noqa: A004 - ducktape's TimeoutError
from ducktape.mark import ignore, matrix, parametrize
from ducktape.mark.resource import cluster
from ducktape.tests.test import Test
from ducktape.utils.util import wait_until

from dtsample.services.ticker import CounterService, TickerService, failing_command


class SampleTest(Test):
    def __init__(self, test_context):
        super(SampleTest, self).__init__(test_context=test_context)
        self.test_context = test_context
        self.ticker = TickerService(test_context, num_nodes=1, greeting=test_context.globals.get("greeting", "none"))

    def setUp(self):
        self.ticker.start()

    @ignore(count=5, nodes=1)
    @cluster(num_nodes=2)
    @matrix(count=[3, 5], nodes=[1])
    @cluster(num_nodes=3)
    @parametrize(count=2, nodes=2)
    def test_services(self, count, nodes):
        assert self.test_context.injected_args == {"count": count, "nodes": nodes}
        assert len(self.test_context.cluster) == {1: 2, 2: 3}[nodes]  # as the @cluster above its case
        counter = CounterService(self.test_context, num_nodes=nodes, count=count)
        counter.start()
        counter.wait(timeout_sec=30)
        assert sorted(counter.seen) == sorted([str(i) for i in range(1, count + 1)] * nodes + ["to-stderr"] * nodes)
        node = self.ticker.nodes[0]
        config = node.account.ssh_output("cat %s" % self.ticker.logs["ticker_config"]["path"]).decode()
        assert "greeting=%s" % self.test_context.globals["greeting"] in config, config
        assert "node=%s" % node.account.hostname in config
        assert failing_command(node) == 3
        assert self.ticker.alive(node)
        try:
            wait_until(lambda: False, timeout_sec=0.3, backoff_sec=0.1, err_msg="never")
        except TimeoutError as e:
            assert "never" in str(e)
        return {"count": count}

    @cluster(num_nodes=1)
    def test_fails(self):
        raise AssertionError("this test fails on purpose")
