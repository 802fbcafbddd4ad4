"""Kafka under a network partition: the leader of a partition is cut off from every other node
for 20 s while records are produced with acks=all; no acknowledged record may be lost.

3 brokers and 3 KRaft controllers of their own, a topic with 3 partitions, replication factor 3
and min.insync.replicas=2. VerifiableProducer writes at a fixed rate throughout; a nemesis
isolates the leader of partition 0 after 15 s, heals the partition 20 s later, and the workload
runs on for 15 s. Then VerifiableConsumer reads the topic from the start. Every send (with its
ack or error), every read and both fault events are in the test's ``history.jsonl``; the
checkers' findings (lost, duplicates, the longest window without an ack, latency per phase) are
its data, ``history.png`` its plot.

Needs nodes with a network of their own (``--cluster vagrant``); on the localhost cluster it
errors before its workload starts.
"""

from __future__ import annotations

from types import MappingProxyType

from ducttape.faults import Isolate, Nemesis
from ducttape.runner import cluster
from ducttape.tests.test import KafkaFaultTest

TOPIC = "partitioned"
RATE = 500
QUIET, PARTITIONED = 15.0, 20.0
"""Seconds of workload before and after the partition, and of the partition."""
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
    num_brokers = 3
    num_controllers = 3
    topics = MappingProxyType(
        {TOPIC: {"partitions": 3, "replication-factor": 3, "configs": {"min.insync.replicas": 2}}}
    )

    @cluster(num_nodes=7)
    def test_isolated_leader(self):
        victim = self.kafka.leader(TOPIC, 0)
        nemesis = Nemesis(self.faults, [Isolate(victim)], quiet=QUIET, active=PARTITIONED)
        producer = self.produce_under(nemesis, TOPIC, RATE, PRODUCER_SETTINGS)
        found = self.verdict(
            f"kafka_partition: leader {victim.name} of {TOPIC}-0 isolated "
            f"{PARTITIONED:g} s (acks=all, min.insync.replicas=2)"
        )
        lost = found["durability"]["lost"]
        assert lost == 0, f"{lost} acknowledged records lost, e.g. {found['durability']['lost_examples']}"
        assert found["durability"]["acknowledged"] >= producer.max_messages * 0.9, (
            f"only {found['durability']['acknowledged']} of {producer.max_messages} records acknowledged"
        )
        return {"isolated": victim.name, **found}


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
