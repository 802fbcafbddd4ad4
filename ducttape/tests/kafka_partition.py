"""Kafka under a network partition: the leader of a partition is cut off from every other node
(20 s by default) while records are produced with acks=all; no acknowledged record may be
lost.

3 brokers and 3 KRaft controllers of their own, a topic with 3 partitions, replication factor 3
and min.insync.replicas=2. VerifiableProducer writes at a fixed rate throughout; a nemesis
isolates the leader of partition 0 after ``quiet`` s, heals the partition ``active`` s later,
and the workload runs on for ``quiet`` s. Then VerifiableConsumer reads the topic from the
start. Every send (with its ack or error), every read and both fault events are in the test's
``history.jsonl``; the checkers' findings (lost, duplicates, the longest window without an ack,
latency per phase), the timeline used and the leader of partition 0 afterwards are its data,
``history.png`` its plot.

Parameters: ``--param quiet=S``, seconds of workload before and after the partition (default
15), and ``--param active=S``, seconds of the partition (default 20). Leadership moves only
when the partition outlasts the broker session timeout (Kafka's default, 9 s: then the
controllers fence the cut-off broker) by the time it takes to elect a new leader and for the
producer to find it, so give at least 15 s; with less the records for partition 0 wait for the
healing instead, and the check that none is lost holds without a failover to check.

Needs nodes with a network of their own (``--cluster vagrant``); on the localhost cluster it
errors before its workload starts.
"""

from __future__ import annotations

from types import MappingProxyType

from ducttape.faults import Isolate
from ducttape.runner import cluster
from ducttape.tests.test import KafkaFaultTest

TOPIC = "partitioned"
RATE = 500
PRODUCER_SETTINGS = MappingProxyType(
    {
        "retries": 2147483647,
        # a request stuck on the isolated leader is given up (and retried on the new leader) after
        # 10 s instead of 30
        "request.timeout.ms": 10000,
        "delivery.timeout.ms": 120000,
    }
)


class KafkaPartitionTest(KafkaFaultTest):
    quiet, active = 15.0, 20.0  # the workload before and after the partition, the partition
    num_brokers = 3
    num_controllers = 3
    topics = MappingProxyType(
        {TOPIC: {"partitions": 3, "replication-factor": 3, "configs": {"min.insync.replicas": 2}}}
    )

    @cluster(num_nodes=7)
    def test_isolated_leader(self):
        victim = self.kafka.leader(TOPIC, 0)
        nemesis = self.nemesis([Isolate(victim)])
        self.produce_under(nemesis, TOPIC, RATE, PRODUCER_SETTINGS)
        leader_after = self.kafka.leader(TOPIC, 0)
        found = self.verdict(
            f"kafka_partition: leader {victim.name} of {TOPIC}-0 isolated "
            f"{self.active:g} s (acks=all, min.insync.replicas=2)"
        )
        lost = found["durability"]["lost"]
        assert lost == 0, f"{lost} acknowledged records lost, e.g. {found['durability']['lost_examples']}"
        due = int(RATE * nemesis.duration)  # the producer runs at RATE for at least the schedule
        assert found["durability"]["acknowledged"] >= due * 0.9, (
            f"only {found['durability']['acknowledged']} records acknowledged, of the {due} due"
        )
        return {"isolated": victim.name, "leader_after": leader_after.name if leader_after else None, **found}


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
