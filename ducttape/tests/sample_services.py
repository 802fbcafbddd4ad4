"""Sample scenario: a service on 3 nodes, bounced on one of them.

Runs on any cluster: ``invoke test sample_services`` (localhost) or with ``--cluster json:FILE``.
"""

import time

from ducttape.runner import Test, cluster
from ducttape.services import Service

READY = r"ticker \d+ on \S+ ready"


class TickerService(Service):
    """One long-running process per node: announces itself, then writes a line a second."""

    def start_node(self, node):
        monitor = node.account.monitor_log(self.path(node, self.logs["output"]))
        self.spawn(
            node,
            "sh -c 'echo \"ticker %d on $(hostname) ready\"; while :; do echo tick; sleep 1; done'" % self.idx(node),
        )
        self.wait_for_log(node, monitor, READY, timeout=30)


class SampleServicesTest(Test):
    """Start the ticker on 3 nodes, bounce one, check it came back and the others kept going."""

    @cluster(num_nodes=3)
    def test_bounce(self):
        ticker = TickerService(self.cluster, num_nodes=3)
        started = time.monotonic()
        ticker.start()
        start_s = time.monotonic() - started
        before = {node.name: ticker.pids(node) for node in ticker.nodes}
        victim = ticker.nodes[1]
        started = time.monotonic()
        ticker.bounce(victim)
        bounce_s = time.monotonic() - started
        after = {node.name: ticker.pids(node) for node in ticker.nodes}
        assert after[victim.name] and after[victim.name] != before[victim.name], (
            f"{victim.name} did not come back with a new process: {before} -> {after}"
        )
        for node in ticker.nodes:
            if node is not victim:
                assert after[node.name] == before[node.name], f"{node.name} was disturbed"
        hostnames = {node.name: node.account.ssh_output("hostname").strip() for node in ticker.nodes}
        self.logger.info("bounced %s; processes %s -> %s", victim.name, before, after)
        ticker.stop()
        return {
            "bounced": victim.name,
            "hostnames": hostnames,
            "start_3_nodes": {"value": round(start_s, 4), "unit": "s"},
            "bounce_1_node": {"value": round(bounce_s, 4), "unit": "s"},
        }


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
