"""Scenario fixture: a test that returns the session's parameters (--param, --params FILE)."""

from ducttape.runner import Test, cluster


class SessionParamsTest(Test):
    @cluster(num_nodes=1)
    def test_echo(self):
        return {"params": dict(self.params), "context": dict(self.context.params)}
