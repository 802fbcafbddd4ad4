"""EndToEndLatencyService: Kafka's own EndToEndLatency tool."""

from __future__ import annotations

import re
import time
from typing import Mapping

from ducttape.products.performance.base import ToolService
from ducttape.services import ServiceError


class EndToEndLatencyService(ToolService):
    """Each worker sends ``num_records`` records of ``record_size`` bytes to ``topic`` one at a
    time and times each until it is consumed back (EndToEndLatency; the topic should have one
    partition, and is created so if missing). ``settings`` are client configs.

    ``results[i]``: records, latency_avg_ms, latency_50th_ms, latency_99th_ms,
    latency_999th_ms. ``stats``: the latency of every 1000th record.
    """

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        num_records: int,
        record_size: int = 100,
        acks: int | str = 1,
        settings: Mapping | None = None,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, **kwargs)
        self.kafka = kafka
        self.topic, self.num_records, self.record_size, self.acks = topic, num_records, record_size, acks
        self.settings = dict(settings or {})

    def _worker(self, idx, node):
        args = [self.kafka.bootstrap_servers(), self.topic, self.num_records, self.acks, self.record_size]
        config = self.client_config(node, "client.properties", self.kafka, self.settings)
        if config:
            args.append(config)
        started, result = time.monotonic(), {}
        for line in self.tool_lines(node, self.kafka_tool(node, "end-to-end-latency", *args)):
            self.logger.debug("end-to-end latency %d: %s", idx, line)
            if m := re.match(r"(\d+)\t([\d.]+)$", line):
                self.add_stats(idx, started, {"record": int(m[1]), "latency_ms": float(m[2])})
            elif m := re.match(r"Avg latency: ([\d.]+) ms", line):
                result["latency_avg_ms"] = float(m[1])
            elif m := re.match(r"Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)", line):
                result.update(latency_50th_ms=float(m[1]), latency_99th_ms=float(m[2]), latency_999th_ms=float(m[3]))
        if len(result) != 4:
            raise ServiceError(
                f"{self.service_id} on {node.name}: EndToEndLatency printed no "
                f"summary; last lines of its log: {self.log_tail(node)}"
            )
        self.results[idx - 1] = {"records": self.num_records, **result}
