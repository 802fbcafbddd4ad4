"""Figures that hold still: each measurement repeated, in shuffled blocks, until the 95% interval
of its median is within ±10% or 30 s of further repeats are spent; each figure returned with its
interval and every repeat.

    invoke test docs/examples/stable_figures.py
"""

import time

from ducttape.runner import Test, cluster
from ducttape.runner.stability import Target, repeat_until_stable


class StableFiguresTest(Test):
    """How long a node takes to hash 32 MB with sha1sum and with sha256sum."""

    @cluster(num_nodes=1)
    def test_hash(self):
        node = self.cluster.nodes[0]

        def run_round(order):  # runs the cases in the order given: one result each
            results = []
            for algorithm in order:
                began = time.monotonic()
                node.account.ssh(f"head -c 32M /dev/zero | {algorithm}")
                results.append({"seconds": time.monotonic() - began})
            return results

        target = Target(width_pct=10, budget_s=30)
        found = repeat_until_stable(["sha1sum", "sha256sum"], run_round, lambda case: ["seconds"], target)
        self.show(f"seed {found.seed}; stable: {found.stable}")
        return {case: found.estimate(case, "seconds", target).figure("s") for case in found.runs}
