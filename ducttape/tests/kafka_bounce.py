"""Kafka durability: a broker is bounced while records are produced with acks=all (-1); every
acknowledged record must still be consumed afterwards.

3 brokers (each also a KRaft controller), a topic with replication factor 3 and
min.insync.replicas=2. VerifiableProducer writes at a fixed rate; once a third of the records
are acknowledged, the leader of partition 0 is bounced (cleanly, or with kill -9). Then
VerifiableConsumer reads the topic from the start until it has seen every acknowledged value.
"""

from __future__ import annotations

import time
from types import MappingProxyType

from ducttape.products.verifiable import VerifiableConsumerService, VerifiableProducerService
from ducttape.remote.account import poll
from ducttape.runner import cluster, matrix
from ducttape.tests.test import KafkaTest

TOPIC = "durable"
RECORDS, RATE = 30000, 2000
CONSUME_TIMEOUT = 180.0


class KafkaBounceTest(KafkaTest):
    num_brokers = 3
    topics = MappingProxyType(
        {TOPIC: {"partitions": 3, "replication-factor": 3, "configs": {"min.insync.replicas": 2}}}
    )

    @cluster(num_nodes=5)
    @matrix(clean_shutdown=[True, False])
    def test_no_acked_record_lost(self, clean_shutdown):
        # VerifiableProducer sets retries=0 unless told otherwise: a record sent while its
        # partition moves would fail instead of being retried on the new leader
        producer = VerifiableProducerService(
            self.cluster,
            1,
            self.kafka,
            TOPIC,
            max_messages=RECORDS,
            throughput=RATE,
            acks=-1,
            settings={"retries": 2147483647},
        )
        producer.start()
        poll(
            lambda: producer.num_acked() >= RECORDS // 3,
            120,
            lambda: f"the producer had {producer.num_acked()} records acknowledged after 120s",
            guard=producer.check,
        )
        victim = self.kafka.leader(TOPIC, 0)
        acked_before = producer.num_acked()
        started = time.monotonic()
        self.kafka.bounce(victim, clean_shutdown=clean_shutdown)
        bounce_s = time.monotonic() - started
        producer.wait(timeout=300)
        producer.stop()
        self.logger.info(
            "bounced %s (%s) in %.1fs; %d acknowledged, %d not",
            victim.name,
            "clean" if clean_shutdown else "kill -9",
            bounce_s,
            len(producer.acked),
            len(producer.not_acked),
        )

        consumer = VerifiableConsumerService(self.cluster, 1, self.kafka, TOPIC)
        consumer.start()
        started = time.monotonic()
        poll(
            lambda: not consumer.missing(producer.acked),
            CONSUME_TIMEOUT,
            lambda: (
                f"{len(consumer.missing(producer.acked))} of {len(producer.acked)} "
                f"acknowledged records not consumed after {CONSUME_TIMEOUT:g}s "
                f"(e.g. {consumer.missing(producer.acked)[:5]})"
            ),
            guard=consumer.check,
        )
        consume_s = time.monotonic() - started
        consumer.stop()
        lost = consumer.missing(producer.acked)
        assert not lost, f"{len(lost)} acknowledged records lost"
        assert len(producer.acked) >= RECORDS * 0.9, (
            f"only {len(producer.acked)} of {RECORDS} records acknowledged: {producer.last_errors}"
        )
        return {
            "bounced": victim.name,
            "clean_shutdown": clean_shutdown,
            "acked": len(producer.acked),
            "not_acked": len(producer.not_acked),
            "acked_after_bounce_began": len(producer.acked) - acked_before,
            "consumed": sum(consumer.consumed.values()),
            "duplicates": sum(n - 1 for n in consumer.consumed.values()),
            "lost": len(lost),
            "bounce": {"value": round(bounce_s, 2), "unit": "s"},
            "consume_all": {"value": round(consume_s, 2), "unit": "s"},
        }


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
