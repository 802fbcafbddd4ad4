"""Scenario fixture: tests of mixed node needs that hold their nodes for a while."""

import time

from ducttape.runner import Test, cluster
from ducttape.services import Service


class Holder(Service):
    """Marks each of its nodes as taken by writing a file; finding one already there is a clash."""

    def start_node(self, node):
        node.account.ssh(f"mkdir -p {node.scratch} && set -C && echo {self.service_id} > {node.scratch}/taken")

    def stop_node(self, node, clean_shutdown=True):
        node.account.remove(f"{node.scratch}/taken")


def hold(test, seconds):
    holder = Holder(test.cluster, num_nodes=len(test.cluster.nodes))
    holder.start()
    time.sleep(seconds)  # the work under test: occupying the nodes for a known time
    holder.stop()
    return {"nodes": [n.name for n in test.cluster.nodes]}


class One(Test):
    @cluster(num_nodes=1)
    def test_a(self):
        return hold(self, 0.6)

    @cluster(num_nodes=1)
    def test_b(self):
        return hold(self, 0.4)


class Two(Test):
    @cluster(num_nodes=2)
    def test_a(self):
        return hold(self, 0.5)

    @cluster(num_nodes=2)
    def test_b(self):
        return hold(self, 0.7)


class Three(Test):
    @cluster(num_nodes=3)
    def test_a(self):
        return hold(self, 0.5)

    @cluster(num_nodes=3)
    def test_b(self):
        return hold(self, 0.3)


class Four(Test):
    @cluster(num_nodes=4)
    def test_a(self):
        return hold(self, 0.6)

    @cluster(num_nodes=4)
    def test_b(self):
        return hold(self, 0.4)
