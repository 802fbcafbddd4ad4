"""Scenario fixture: figures with repeats for the sessions index. ``level`` (a session
parameter, default 1) scales ``stepped``; ``noisy`` is the same level with noise in every session;
``retired`` is returned only while ``retire`` is not set."""

import random

from ducttape.runner import Test, cluster


class TrendFiguresTest(Test):
    @cluster(num_nodes=1)
    def test_figures(self):
        level = float(self.params.get("level", 1))
        rng = random.Random()
        data = {"stepped": {"values": [round(200 * level * rng.uniform(0.98, 1.02), 3) for _ in range(6)],
                            "unit": "ms"},
                "noisy": {"values": [round(5000 * rng.uniform(0.98, 1.02), 1) for _ in range(6)],
                          "unit": "records/s"}}
        if not self.params.get("retire"):
            data["retired"] = {"value": 1.0, "unit": "s"}
        return data
