"""Scenario module for benchmarks/scheduler.py: 40 tests of mixed node needs (1-4 nodes) that
each hold their nodes for a fixed time. Needs and times come from a fixed seed, so every run
schedules the same suite."""

import random
import time

from ducttape.runner import Test, cluster, parametrize

SEED, COUNT = 7, 40
rng = random.Random(SEED)
CASES = [{"n": i, "nodes": rng.randint(1, 4), "seconds": round(rng.uniform(0.5, 2.0), 2)} for i in range(COUNT)]


def _with_cases(fn):
    for case in reversed(CASES):
        fn = parametrize(**case)(fn)
    return fn


class Packing(Test):
    @cluster(num_nodes=lambda nodes, **_: nodes)
    @_with_cases
    def test_hold(self, n, nodes, seconds):
        time.sleep(seconds)  # the test's work: occupy its nodes for a known time
        return {"nodes": nodes, "seconds": seconds}
