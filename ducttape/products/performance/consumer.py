"""ConsumerPerformanceService: Kafka's own ConsumerPerformance tool."""

from __future__ import annotations

from typing import Mapping

from ducttape.products.performance.base import ToolService
from ducttape.services import ServiceError


def parse_consumer_line(line: str) -> dict | None:
    """The figures of ConsumerPerformance's summary line (None for other lines): ``start.time,
    end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
    fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec``."""
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 10 or not parts[4].isdigit():
        return None
    return {
        "records": int(parts[4]),
        "records_per_sec": float(parts[5]),
        "mbps": float(parts[3]),
        "total_mb": float(parts[2]),
        "rebalance_ms": float(parts[6]),
        "fetch_records_per_sec": float(parts[9]),
    }


class ConsumerPerformanceService(ToolService):
    """Each worker reads ``num_records`` records of ``topic`` with ConsumerPerformance, in
    consumer group ``group`` (default: its own per worker); ``settings`` are consumer configs.

    ``results[i]``: records, records_per_sec, mbps, total_mb (and rebalance_ms,
    fetch_records_per_sec). The worker fails if the tool read fewer than ``num_records``
    within ``timeout_ms`` of silence.
    """

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        num_records: int,
        group: str | None = None,
        settings: Mapping | None = None,
        timeout_ms: int = 30000,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, **kwargs)
        self.kafka = kafka
        self.topic, self.num_records, self.group = topic, num_records, group
        self.settings = dict(settings or {})
        self.timeout_ms = timeout_ms

    def _worker(self, idx, node):
        args = [
            "--bootstrap-server",
            self.kafka.bootstrap_servers(),
            "--topic",
            self.topic,
            "--messages",
            self.num_records,
            "--timeout",
            self.timeout_ms,
            "--group",
            self.group or f"{self.service_id}-{idx}",
        ]
        config = self.client_config(node, "consumer.properties", self.kafka, self.settings)
        if config:
            args += ["--consumer.config", config]
        result = None
        for line in self.tool_lines(node, self.kafka_tool(node, "consumer-perf", *args)):
            self.logger.debug("consumer performance %d: %s", idx, line)
            result = parse_consumer_line(line) or result
        if result is None:
            raise ServiceError(
                f"{self.service_id} on {node.name}: ConsumerPerformance printed no "
                f"summary; last lines of its log: {self.log_tail(node)}"
            )
        if result["records"] < self.num_records:
            raise ServiceError(
                f"{self.service_id} on {node.name}: read {result['records']} of "
                f"{self.num_records} records of {self.topic}"
            )
        self.results[idx - 1] = result
