"""REST producer and consumer performance: load through the Kafka HTTP bridge, timed on the client.

The load generator is ``RestLoadGen.java``, one dependency-free source file that each node runs
with the JDK's source launcher (``java RestLoadGen.java ...``). Java because it is what every
node has: the nodes run Kafka, and the Vagrant node image is Debian with
openjdk-17-jre-headless and no Python; that package's runtime image includes the jdk.compiler
module the source launcher needs, so no build step and no javac binary are needed. It keeps
several requests in flight on persistent HTTP/1.1 connections and is far from being the
bottleneck (``benchmarks/rest_loadgen.py``).
"""

from __future__ import annotations

import json
import os
import time

from ducttape.cluster import Node
from ducttape.products import jvm
from ducttape.products.performance.base import ToolService
from ducttape.services import ServiceError

LOADGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RestLoadGen.java")
LOADGEN_HEAP = "256m"


class _RestLoad(ToolService):
    """Runs RestLoadGen on each node against the bridge and reads its JSON lines."""

    def __init__(self, cluster, num_nodes, rest, topic: str, num_records: int, **kwargs):
        super().__init__(cluster, num_nodes, **kwargs)
        self.rest = rest
        self.topic, self.num_records = topic, num_records

    def loadgen_args(self, idx: int) -> list[object]:
        raise NotImplementedError

    def _worker(self, idx, node):
        source = self.path(node, "RestLoadGen.java")
        with open(LOADGEN) as f:
            node.account.create_file(source, f.read())
        cmd = jvm.java(source, *self.loadgen_args(idx), java_opts=jvm.opts(LOADGEN_HEAP))
        started, result = time.monotonic(), None
        for line in self.tool_lines(node, cmd):
            self.logger.debug("%s %d: %s", self.service_id, idx, line)
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            kind = event.pop("event", None)
            if kind == "stats":
                self.add_stats(idx, started, event)
            elif kind == "result":
                result = event
        if result is None:
            raise ServiceError(f"{self.service_id} on {node.name}: the load generator printed no "
                               f"result; last lines of its log: {self.log_tail(node)}")
        self.results[idx - 1] = result

    def _url(self, idx: int) -> str:
        return self.rest.url((idx - 1) % len(self.rest.nodes) + 1)


class RestProducerPerformanceService(_RestLoad):
    """Each worker produces ``num_records`` records of ``record_size`` bytes to ``topic``
    through the bridge, ``batch_size`` records per request and ``concurrency`` requests in
    flight, at most ``throughput`` records/s (-1: as fast as it can). Worker i talks to bridge
    node i (round robin).

    ``results[i]`` has the ProducerPerformance fields (records, records_per_sec, mbps,
    latency_avg_ms, latency_max_ms, latency_50th/95th/99th/999th_ms), the latencies being those
    of requests, plus requests, requests_per_sec, errors, elapsed_s. ``stats``: every 5 s.
    """

    def __init__(self, cluster, num_nodes, rest, topic: str, num_records: int, record_size: int,
                 batch_size: int, throughput: int = -1, concurrency: int = 2, **kwargs):
        super().__init__(cluster, num_nodes, rest, topic, num_records, **kwargs)
        self.record_size, self.batch_size = record_size, batch_size
        self.throughput, self.concurrency = throughput, concurrency

    def loadgen_args(self, idx):
        return ["produce", "--url", self._url(idx), "--topic", self.topic,
                "--records", self.num_records, "--record-size", self.record_size,
                "--batch", self.batch_size, "--throughput", self.throughput,
                "--concurrency", self.concurrency]


class RestConsumerPerformanceService(_RestLoad):
    """Each worker reads ``num_records`` records of ``topic`` through the bridge: it makes a
    consumer instance in group ``group`` (default: its own per worker) with embedded
    ``format`` (``binary`` reads any record, ``json`` only JSON values), subscribes, and polls
    (up to ``max_bytes`` per poll) until it has them all; it fails after ``idle_timeout_ms``
    without a record.

    ``results[i]``: records, records_per_sec, mbps, total_mb (of record values), and the poll
    requests' latencies as for the producer.
    """

    def __init__(self, cluster, num_nodes, rest, topic: str, num_records: int,
                 group: str | None = None, format: str = "binary",  # noqa: A002 - the API's word
                 max_bytes: int = 4 * 1024 * 1024, idle_timeout_ms: int = 30000, **kwargs):
        super().__init__(cluster, num_nodes, rest, topic, num_records, **kwargs)
        self.group, self.format = group, format
        self.max_bytes, self.idle_timeout_ms = max_bytes, idle_timeout_ms

    def loadgen_args(self, idx):
        return ["consume", "--url", self._url(idx), "--topic", self.topic,
                "--records", self.num_records, "--group", self.group or f"{self.service_id}-{idx}",
                "--format", self.format, "--max-bytes", self.max_bytes, "--idle-timeout-ms", self.idle_timeout_ms]

    def _worker(self, idx, node: Node):
        super()._worker(idx, node)
        read = self.results[idx - 1]["records"]
        if read < self.num_records:
            raise ServiceError(f"{self.service_id} on {node.name}: read {read} of "
                               f"{self.num_records} records of {self.topic}")
