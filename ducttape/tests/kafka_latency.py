"""Kafka with a slow link: 100 ms of added latency on one broker's links, against a no-fault
baseline in the same run.

3 brokers (each also a controller), one topic with one partition, replication factor 3 and
min.insync.replicas=2, written with acks=all at a fixed rate. A nemesis adds the delay on the
partition leader's links (netem where the kernel has it, else a Toxiproxy in front of its
broker and controller ports) after a baseline and removes it later. The data holds throughput
and latency percentiles (from each record's intended send time) before, during and after, and
the timeline used; the median latency must rise by at least 80 % of the delay and no
acknowledged record may be lost.

Parameters: ``--param quiet=S``, seconds of workload before the delay (the baseline) and after
it (default 20), and ``--param active=S``, seconds of the delay (default 30). Below about 5 s
of quiet the baseline is mostly the clients' warm-up; below about 10 s of delay the seconds the
delay takes to be in force (the proxy starts, connections are reset and made again) are a large
share of the phase whose median must rise.

Needs nodes with a network of their own (``--cluster vagrant``).
"""

from __future__ import annotations

from types import MappingProxyType

from ducttape.faults import Delay
from ducttape.runner import cluster
from ducttape.tests.test import KafkaFaultTest

TOPIC = "slow-link"
RATE = 500
DELAY_MS = 100


class KafkaLatencyTest(KafkaFaultTest):
    quiet, active = 20.0, 30.0  # the baseline (and the workload after the delay), the delay
    num_brokers = 3
    topics = MappingProxyType(
        {TOPIC: {"partitions": 1, "replication-factor": 3, "configs": {"min.insync.replicas": 2}}}
    )

    @cluster(num_nodes=4)
    def test_slow_leader_links(self):
        slow = self.kafka.leader(TOPIC, 0)
        delay = Delay(slow, DELAY_MS, ports=[self.kafka.port, self.kafka.controller_port])
        self.produce_under(self.nemesis([delay]), TOPIC, RATE, {"retries": 2147483647})
        found = self.verdict(
            f"kafka_latency: +{DELAY_MS} ms on the links of leader {slow.name} "
            f"({delay.used}), acks=all, {RATE} records/s"
        )
        baseline, during = found["phases"][0], found["phases"][1]
        assert found["durability"]["lost"] == 0, f"{found['durability']['lost']} acknowledged records lost"
        # the median, not the p99, carries the verdict: on a loaded machine the baseline's p99 is
        # a stall of the machine as often as one of Kafka
        added_p50 = during["latency_ms"]["p50"] - baseline["latency_ms"]["p50"]
        assert added_p50 >= DELAY_MS * 0.8, (
            f"the median latency rose by only {added_p50:.1f} ms with {DELAY_MS} ms added on {slow.name}'s links"
        )
        return {
            "slow_broker": slow.name,
            "method": delay.used,
            "delay_ms": DELAY_MS,
            **{
                name: {
                    "records_per_sec": {"value": p["throughput_per_s"], "unit": "records/s"},
                    "p50": {"value": p["latency_ms"]["p50"], "unit": "ms"},
                    "p99": {"value": p["latency_ms"]["p99"], "unit": "ms"},
                }
                for name, p in (("baseline", baseline), ("delayed", during))
            },
            **found,
        }


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
