"""Scenario fixture: fails on its first run, passes on the second; and one that always fails."""

import os

from ducttape.runner import Test, cluster

STATE = os.environ["DUCTTAPE_FLAKY_STATE"]


class FlakyTest(Test):
    @cluster(num_nodes=1)
    def test_second_time_lucky(self):
        first = not os.path.exists(STATE)
        open(STATE, "a").close()
        self.logger.info("first run" if first else "second run")
        assert not first, "fails the first time"
        return {"lucky": True}

    @cluster(num_nodes=1)
    def test_always_fails(self):
        raise AssertionError("never passes")
