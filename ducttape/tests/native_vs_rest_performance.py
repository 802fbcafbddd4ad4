"""Native Kafka clients against the HTTP bridge: producer and consumer throughput and latency.

One broker, one bridge, a topic with 6 partitions, acks=1, records of 100 bytes. The native
path is Kafka's ProducerPerformance / ConsumerPerformance; the REST path is RestLoadGen through
the bridge, batch_size records per request. Each test shows a comparison table (also written to
``native_vs_rest.txt`` in its results folder) and returns the figures, with units, so
``invoke compare`` can set sessions side by side.

Size: the environment variable ``DUCTTAPE_SIZE`` chooses how many records are produced and
consumed: ``small`` (default: 5,000,000 and 2,000,000; with the Strimzi bridge both tests took
18 minutes on a busy 2-core machine) or ``seed`` (the original sizes: 50,000,000 and 5,000,000)::

    DUCTTAPE_SIZE=seed invoke test native_vs_rest_performance
"""

from __future__ import annotations

import os
from types import MappingProxyType

from tabulate import tabulate

from ducttape.errors import ConfigError
from ducttape.products.performance import (ConsumerPerformanceService, ProducerPerformanceService,
                                           RestConsumerPerformanceService,
                                           RestProducerPerformanceService)
from ducttape.products.performance.base import RUN_TIMEOUT
from ducttape.runner import cluster
from ducttape.tests.test import RestProxyTest

SIZE_ENV = "DUCTTAPE_SIZE"
SIZES = MappingProxyType({
    "small": MappingProxyType({"produce": 5_000_000, "consume": 2_000_000}),
    "seed": MappingProxyType({"produce": 50_000_000, "consume": 5_000_000}),
})
SIZE = os.environ.get(SIZE_ENV) or "small"
if SIZE not in SIZES:
    raise ConfigError(f"{SIZE_ENV}={SIZE!r} is not a size: use {' or '.join(SIZES)}")

TOPIC = "test-rep-one"
RECORD_SIZE = 100
BATCH_SIZE = 8196
"""The producer's batch.size (bytes) on both paths, and the records per REST request."""
ACKS = 1

UNITS = MappingProxyType({"records": "records", "records_per_sec": "records/s", "mbps": "MB/s",
                          "total_mb": "MB", "latency_avg_ms": "ms", "latency_max_ms": "ms",
                          "latency_50th_ms": "ms", "latency_95th_ms": "ms",
                          "latency_99th_ms": "ms", "latency_999th_ms": "ms"})


class _NativeVsRest(RestProxyTest):
    topics = MappingProxyType({TOPIC: {"partitions": 6, "replication-factor": 1}})
    rest_settings = MappingProxyType({"kafka.producer.acks": ACKS,
                                      "kafka.producer.batch.size": BATCH_SIZE})
    producer_settings = MappingProxyType({"acks": ACKS, "batch.size": BATCH_SIZE})

    def run_both(self, what: str, records: int, native, rest, fields: list[str]) -> dict:
        """Run the native service, then the REST one; check each handled every record; show and
        keep the table; return the figures with their units."""
        for name, service in (("native", native), ("REST", rest)):
            service.run(timeout=RUN_TIMEOUT)  # the Strimzi bridge takes minutes for the REST path
            done = service.results[0]["records"]
            assert done == records, f"the {name} {what} handled {done} of {records} records"
        return self.compare(what, records, native.results[0], rest.results[0], fields)

    def compare(self, what: str, records: int, native: dict, rest: dict, fields: list[str]) -> dict:
        """Show and keep the table; return the figures with their units."""
        rows = [[path, *(r.get(f, "") for f in fields)] for path, r in (("native", native), ("REST", rest))]
        ratio = rest["records_per_sec"] / native["records_per_sec"]
        table = tabulate(rows, headers=["path", *fields], floatfmt=",.1f", intfmt=",")
        bridge = self.rest.build
        text = (f"{what}: {records:,} records of {RECORD_SIZE} bytes, size {SIZE!r}; REST through "
                f"{bridge['project']} {bridge['version']} ({(bridge['git_sha'] or '')[:12]})\n{table}\n"
                f"REST / native records/s: {ratio:.3f}\n")
        self.show(text)
        with open(os.path.join(self.results_dir, "native_vs_rest.txt"), "w") as f:
            f.write(text)
        return {"size": SIZE, "record_size": RECORD_SIZE, "batch_size": BATCH_SIZE, "acks": ACKS,
                "bridge": bridge,
                "native": _with_units(native), "rest": _with_units(rest),
                "rest_vs_native_records_per_sec": {"value": round(ratio, 4), "unit": "x"}}


class NativeVsRestProducerPerformance(_NativeVsRest):
    """Produce the same number of records natively, then through the bridge."""

    @cluster(num_nodes=3)
    def test_produce(self):
        records = SIZES[SIZE]["produce"]
        native = ProducerPerformanceService(
            self.cluster, 1, self.kafka, topic=TOPIC, num_records=records,
            record_size=RECORD_SIZE, throughput=-1, settings=self.producer_settings)
        rest = RestProducerPerformanceService(
            self.cluster, 1, self.rest, topic=TOPIC, num_records=records,
            record_size=RECORD_SIZE, batch_size=BATCH_SIZE, throughput=-1)
        return self.run_both("produce", records, native, rest,
                             ["records", "records_per_sec", "mbps", "latency_avg_ms",
                              "latency_50th_ms", "latency_99th_ms", "latency_999th_ms"])


class NativeVsRestConsumerPerformance(_NativeVsRest):
    """Fill the topic, then read all of it natively and through the bridge (each in its own
    consumer group)."""

    @cluster(num_nodes=3)
    def test_consume(self):
        records = SIZES[SIZE]["consume"]
        ProducerPerformanceService(
            self.cluster, 1, self.kafka, topic=TOPIC, num_records=records,
            record_size=RECORD_SIZE, throughput=-1, settings=self.producer_settings).run()
        native = ConsumerPerformanceService(self.cluster, 1, self.kafka, topic=TOPIC,
                                            num_records=records)
        rest = RestConsumerPerformanceService(self.cluster, 1, self.rest, topic=TOPIC,
                                              num_records=records)
        return self.run_both("consume", records, native, rest,
                             ["records", "records_per_sec", "mbps", "total_mb"])


def _with_units(result: dict) -> dict:
    return {k: {"value": v, "unit": UNITS[k]} if k in UNITS else v for k, v in result.items()}


if __name__ == "__main__":
    from ducttape.runner.main import main
    main(__spec__.name)
