"""ProducerPerformanceService: Kafka's own ProducerPerformance tool."""

from __future__ import annotations

import re
import time
from typing import Mapping

from ducttape.products.performance.base import ToolService, properties
from ducttape.services import ServiceError

_LINE = re.compile(
    r"(?P<records>\d+) records sent, (?P<records_per_sec>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<latency_avg_ms>[\d.]+) ms avg latency, (?P<latency_max_ms>[\d.]+) ms max latency"
    r"(?:, (?P<latency_50th_ms>\d+) ms 50th, (?P<latency_95th_ms>\d+) ms 95th, "
    r"(?P<latency_99th_ms>\d+) ms 99th, (?P<latency_999th_ms>\d+) ms 99.9th)?"
)


def parse_producer_line(line: str) -> dict | None:
    """The figures of a ProducerPerformance report line (None for other lines); the final line
    also has the latency percentiles."""
    m = _LINE.search(line)
    if not m:
        return None
    return {k: (int(v) if k == "records" else float(v)) for k, v in m.groupdict().items() if v is not None}


class ProducerPerformanceService(ToolService):
    """Each worker produces ``num_records`` records of ``record_size`` bytes to ``topic`` with
    ProducerPerformance, at most ``throughput`` records/s (-1: as fast as it can); ``settings``
    are producer configs (``acks``, ``batch.size``, ...).

    ``results[i]``: records, records_per_sec, mbps, latency_avg_ms, latency_max_ms,
    latency_50th_ms, latency_95th_ms, latency_99th_ms, latency_999th_ms. ``stats``: the tool's
    report lines as it runs (every 5 s).
    """

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        num_records: int,
        record_size: int,
        throughput: int = -1,
        settings: Mapping | None = None,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, **kwargs)
        self.kafka = kafka
        self.topic, self.num_records, self.record_size = topic, num_records, record_size
        self.throughput = throughput
        self.settings = dict(settings or {})

    def arguments(self) -> list[str]:
        """ProducerPerformance's arguments (also what benchmarks/fidelity.py runs by hand)."""
        return [
            "--topic",
            self.topic,
            "--num-records",
            str(self.num_records),
            "--record-size",
            str(self.record_size),
            "--throughput",
            str(self.throughput),
            "--producer-props",
            f"bootstrap.servers={self.kafka.bootstrap_servers()}",
            *properties(self.settings),
        ]

    def _worker(self, idx, node):
        started = time.monotonic()
        last = None
        args = self.arguments()
        config = self.client_config(node, "producer.properties", self.kafka, {})
        if config:  # the SCRAM login: in a file of the node's, not on the command line
            args += ["--producer.config", config]
        for line in self.tool_lines(node, self.kafka_tool(node, "producer-perf", *args)):
            self.logger.debug("producer performance %d: %s", idx, line)
            figures = parse_producer_line(line)
            if figures is None:
                continue
            if "latency_99th_ms" in figures:
                last = figures
            else:
                self.add_stats(idx, started, figures)
        if last is None:
            raise ServiceError(
                f"{self.service_id} on {node.name}: ProducerPerformance printed no "
                f"final report; last lines of its log: {self.log_tail(node)}"
            )
        self.results[idx - 1] = last
