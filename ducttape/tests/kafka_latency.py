"""Kafka with a slow link: 100 ms of added latency on one broker's links, against a no-fault
baseline in the same run.

3 brokers (each also a controller), one topic with one partition, replication factor 3 and
min.insync.replicas=2, written with acks=all at a fixed rate. A nemesis adds the delay on the
partition leader's links (netem where the kernel has it, else a Toxiproxy in front of its
broker and controller ports) after a baseline and removes it later. The data holds throughput
and latency percentiles (from each record's intended send time) before, during and after; the
delay must show in the p99 and no acknowledged record may be lost.

Needs nodes with a network of their own (``--cluster vagrant``).
"""

from __future__ import annotations

from types import MappingProxyType

from ducttape.faults import Delay, Nemesis
from ducttape.products.verifiable import VerifiableConsumerService, VerifiableProducerService
from ducttape.remote.account import poll
from ducttape.runner import cluster
from ducttape.tests.test import FaultTest, KafkaTest, kafka_events_to

TOPIC = "slow-link"
RATE = 500
DELAY_MS = 100
BASELINE, DELAYED, AFTER = 20.0, 30.0, 15.0
CONSUME_TIMEOUT = 180.0


class KafkaLatencyTest(FaultTest, KafkaTest):
    num_brokers = 3
    topics = MappingProxyType({TOPIC: {"partitions": 1, "replication-factor": 3,
                                       "configs": {"min.insync.replicas": 2}}})

    @cluster(num_nodes=4)
    def test_slow_leader_links(self):
        slow = self.kafka.leader(TOPIC, 0)
        delay = Delay(slow, DELAY_MS, ports=[self.kafka.port, self.kafka.controller_port])
        nemesis = Nemesis(self.faults, [delay], quiet=BASELINE, active=DELAYED)
        on_event = kafka_events_to(self.history, RATE)
        total = int(RATE * (BASELINE + DELAYED + AFTER))
        producer = VerifiableProducerService(self.cluster, 1, self.kafka, TOPIC, max_messages=total,
                                             throughput=RATE, acks=-1,
                                             settings={"retries": 2147483647}, on_event=on_event)
        producer.start()
        poll(lambda: producer.num_acked() > 0, 120, lambda: "no record acknowledged within 120s",
             guard=producer.check)
        nemesis.start()  # the quiet time before the fault is time the workload runs
        try:
            producer.wait(timeout=(BASELINE + DELAYED + AFTER) * 4)
        finally:
            nemesis.stop()
        producer.stop()

        consumer = VerifiableConsumerService(self.cluster, 1, self.kafka, TOPIC, on_event=on_event)
        consumer.start()
        poll(lambda: not consumer.missing(producer.acked), CONSUME_TIMEOUT,
             lambda: f"{len(consumer.missing(producer.acked))} of {len(producer.acked)} "
                     f"acknowledged records not consumed after {CONSUME_TIMEOUT:g}s",
             guard=consumer.check)
        consumer.stop()

        found = self.verdict(f"kafka_latency: +{DELAY_MS} ms on the links of leader {slow.name} "
                             f"({delay.used}), acks=all, {RATE} records/s")
        baseline, during = found["phases"][0], found["phases"][1]
        assert found["durability"]["lost"] == 0, f"{found['durability']['lost']} acknowledged records lost"
        added_p99 = during["latency_ms"]["p99"] - baseline["latency_ms"]["p99"]
        assert added_p99 >= DELAY_MS * 0.8, \
            f"p99 rose by only {added_p99:.1f} ms with {DELAY_MS} ms added on {slow.name}'s links"
        return {"slow_broker": slow.name, "method": delay.used, "delay_ms": DELAY_MS,
                "baseline": {"records_per_sec": {"value": baseline["throughput_per_s"], "unit": "records/s"},
                             "p99": {"value": baseline["latency_ms"]["p99"], "unit": "ms"}},
                "delayed": {"records_per_sec": {"value": during["throughput_per_s"], "unit": "records/s"},
                            "p99": {"value": during["latency_ms"]["p99"], "unit": "ms"}},
                **found}


if __name__ == "__main__":
    from ducttape.runner.main import main
    main(__spec__.name)
