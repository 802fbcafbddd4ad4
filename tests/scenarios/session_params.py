"""Scenario fixture: a test that returns the session's --param values."""

from ducttape.runner import Test, cluster


class SessionParamsTest(Test):
    @cluster(num_nodes=1)
    def test_echo(self):
        return dict(self.params)
