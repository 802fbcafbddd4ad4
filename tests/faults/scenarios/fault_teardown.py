"""Scenario fixture: tests that fail or hang while their faults are active (the runner must heal
them), and one whose network fault cannot apply (it must error before its workload starts).

On nodes with a network of their own the failing tests also partition the nodes and slow one
down through the delay proxy; on the localhost cluster they pause a process only.
"""

import os
import threading

from ducttape.errors import ConfigError
from ducttape.faults import Delay, Nemesis, Partition
from ducttape.runner import Test, cluster
from ducttape.services import Service
from ducttape.tests.test import FaultTest

WORKLOAD_MARKER = "workload-started"


class CounterService(Service):
    """Counts up in a file ``counter`` of its own directory, 20 times a second."""

    def start_node(self, node):
        counter = self.path(node, "counter")
        self.spawn(node, f"sh -c 'i=0; while :; do i=$((i+1)); echo $i > {counter}.new; "
                         f"mv {counter}.new {counter}; sleep 0.05; done'")
        self.wait_for(node, lambda: node.account.exists(counter), 60,
                      lambda: f"{counter} was not written")


class _MidFault(FaultTest, Test):
    def setUp(self):
        self.counter = CounterService(self.cluster, 1)
        self.counter.start()
        super().setUp()

    def break_things(self):
        node = self.counter.nodes[0]
        self.faults.pause(self.counter, node)
        nodes = self.cluster.nodes
        try:
            self.faults.check(Partition([nodes[:1], nodes[1:]]))
        except ConfigError:
            return  # the localhost cluster: process faults only
        self.faults.start(Partition([nodes[:1], nodes[1:]]))
        self.faults.start(Delay(nodes[1], 50, ports=[22], method="proxy"))


class FailsMidFault(_MidFault):
    @cluster(num_nodes=2)
    def test_fails(self):
        self.break_things()
        raise AssertionError("failing on purpose with faults active")


class HangsMidFault(_MidFault):
    @cluster(num_nodes=2)
    def test_hangs(self):
        self.break_things()
        threading.Event().wait()


class NetworkFaultOnLocalhost(FaultTest, Test):
    @cluster(num_nodes=2)
    def test_partition(self):
        nodes = self.cluster.nodes
        nemesis = Nemesis(self.faults, [Partition([nodes[:1], nodes[1:]])], quiet=1, active=1)
        with open(os.path.join(self.results_dir, WORKLOAD_MARKER), "w") as f:
            f.write("the workload would start here\n")
        nemesis.start().join()
