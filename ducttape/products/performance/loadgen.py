"""ducttape's load generator (``LoadGen.java``): producers at a constant rate, natively or through
the Kafka HTTP bridge, measured the same way on both paths; and a consumer through the bridge.

``LoadGen.java`` is one source file that each node runs with the JDK's source launcher and
Kafka's ``libs/`` on the class path (kafka-clients and HdrHistogram ship with Kafka). Java
because it is what every node has: the Vagrant node image is Debian with openjdk-17-jre-headless
(whose runtime includes the jdk.compiler module the source launcher needs) and no Python. The
header of ``LoadGen.java`` defines what it measures; docs/products.md explains the figures.
"""

from __future__ import annotations

import json
import os
import posixpath
import time
from typing import Mapping

from ducttape.build import layout
from ducttape.cluster import Node
from ducttape.products import jvm
from ducttape.products.performance.base import ToolService
from ducttape.products.scram import refuse_scram
from ducttape.services import ServiceError

LOADGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "LoadGen.java")
LOADGEN_HEAP = "512m"


def classpath(build_dir: str) -> str:
    """The class path LoadGen runs with: Kafka's libs under a node's build folder."""
    return posixpath.join(layout.node_project_dir("kafka", build_dir), "libs", "*")


class _LoadGen(ToolService):
    """Runs LoadGen in ``mode`` on each node and reads its JSON lines: ``stats`` events go to
    ``stats``, the ``result`` events to ``runs`` (one list per worker) and the last one to
    ``results``."""

    mode = ""

    def __init__(self, cluster, num_nodes, topic: str, **kwargs):
        super().__init__(cluster, num_nodes, **kwargs)
        self.topic = topic
        self.runs: list[list[dict]] = [[] for _ in range(num_nodes)]

    def loadgen_args(self, idx: int) -> list[object]:
        """LoadGen's arguments after its mode for worker ``idx`` (1-based)."""
        raise NotImplementedError

    def _worker(self, idx, node):
        source = self.path(node, "LoadGen.java")
        with open(LOADGEN) as f:
            node.account.create_file(source, f.read())
        cmd = self.command(node, source, *self.loadgen_args(idx))
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
                self.runs[idx - 1].append(event)
        if result is None:
            raise ServiceError(
                f"{self.service_id} on {node.name}: the load generator printed no "
                f"result; last lines of its log: {self.log_tail(node)}"
            )
        self.results[idx - 1] = result

    def command(self, node: Node, source: str, *args: object) -> str:
        """``java -cp KAFKA/libs/* LoadGen.java MODE ARGS`` with Kafka's client logging at WARN."""
        return jvm.java(
            "-cp",
            classpath(node.build_dir),
            source,
            self.mode,
            *args,
            java_opts=jvm.opts(LOADGEN_HEAP, self.log4j_option(node)),
        )


class _Producer(_LoadGen):
    def __init__(
        self,
        cluster,
        num_nodes,
        topic: str,
        record_size: int,
        seconds: float,
        rate: float | None = None,
        warmup_s: float = 0,
        rates: list | None = None,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, topic, **kwargs)
        self.record_size, self.seconds, self.warmup_s = record_size, seconds, warmup_s
        self.rates = list(rates) if rates else [rate]

    def pacing_args(self) -> list[object]:
        return [
            *_run_args(self.topic, self.record_size, self.seconds, self.warmup_s),
            "--rates",
            ",".join(_rate(r) for r in self.rates),
        ]


class NativeProducerLoadService(_Producer):
    """Each worker produces records of ``record_size`` random bytes to ``topic`` with a
    KafkaProducer (``settings``: producer configs such as acks, batch.size, linger.ms): at
    ``rate`` records/s for ``seconds`` (``rate * seconds`` records; a run that falls behind
    stops sending at ``2 * seconds`` and counts the rest as ``records_unsent``, their wait so far
    in the latencies as a lower bound), or as fast as it can for ``seconds`` when ``rate`` is
    None; after ``warmup_s`` seconds of the same load, unmeasured. ``rates`` (a list, None for
    as fast as it goes) makes one run per rate in that order, in one process, after one warm-up.

    ``results[i]``: path, target_records_per_sec, records, records_sent, records_unsent, errors, elapsed_s,
    records_per_sec, mbps (between the first acknowledgement and the last), total_mb,
    latency_avg/50th/95th/99th/999th/max_ms (per record, from its due time to its
    acknowledgement), schedule_lag_max_ms; ``runs[i]``: that of every run. ``stats``: every 5 s.
    """

    mode = "produce-native"

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        record_size: int,
        seconds: float,
        rate: float | None = None,
        settings: Mapping | None = None,
        **kwargs,
    ):
        refuse_scram(kafka, type(self).__name__)
        super().__init__(cluster, num_nodes, topic, record_size, seconds, rate, **kwargs)
        self.kafka = kafka
        self.settings = dict(settings or {})

    def loadgen_args(self, idx):
        return [
            "--bootstrap",
            self.kafka.bootstrap_servers(),
            *self.pacing_args(),
            *_producer_props(self.settings),
        ]


class RestProducerLoadService(_Producer):
    """As NativeProducerLoadService, through the bridge ``rest`` (worker i to bridge node i,
    round robin): ``records_per_request`` records per POST /topics/T in the binary embedded
    format, at most ``in_flight`` requests at once. A record is acknowledged by the response
    of the request that carried it. ``results[i]`` as for the native path, plus requests."""

    mode = "produce-rest"

    def __init__(
        self,
        cluster,
        num_nodes,
        rest,
        topic: str,
        record_size: int,
        seconds: float,
        records_per_request: int,
        rate: float | None = None,
        in_flight: int = 2,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, topic, record_size, seconds, rate, **kwargs)
        self.rest = rest
        self.records_per_request, self.in_flight = records_per_request, in_flight

    def loadgen_args(self, idx):
        return [
            "--url",
            _url(self.rest, idx),
            *self.pacing_args(),
            "--records-per-request",
            self.records_per_request,
            "--in-flight",
            self.in_flight,
        ]


class InterleavedProducerLoadService(_LoadGen):
    """Both producer paths in one LoadGen process, interleaved: ``plan`` is a list of steps
    ``(path, records_per_request, rate)`` (path ``native`` or ``rest``; records_per_request None
    on the native path; rate None: as fast as it goes), run in that order, each a run of
    ``seconds`` as in NativeProducerLoadService and RestProducerLoadService; each path warms
    up ``warmup_s`` seconds before its first step (at its rate). The native path
    goes to ``kafka`` with producer ``settings``, the REST path through ``rest`` (worker i to
    bridge node i) with ``in_flight`` requests at most. ``runs[i]``: one result per step, in
    order."""

    mode = "produce"

    def __init__(
        self,
        cluster,
        num_nodes,
        topic: str,
        record_size: int,
        seconds: float,
        plan: list,
        kafka=None,
        rest=None,
        settings: Mapping | None = None,
        in_flight: int = 2,
        warmup_s: float = 0,
        **kwargs,
    ):
        refuse_scram(kafka, type(self).__name__)
        super().__init__(cluster, num_nodes, topic, **kwargs)
        self.record_size, self.seconds, self.warmup_s = record_size, seconds, warmup_s
        self.plan, self.kafka, self.rest = list(plan), kafka, rest
        self.settings, self.in_flight = dict(settings or {}), in_flight

    def loadgen_args(self, idx):
        steps = ",".join(f"{path}{f'/{n}' if path == 'rest' else ''}@{_rate(rate)}" for path, n, rate in self.plan)
        return [
            "--plan",
            steps,
            *_run_args(self.topic, self.record_size, self.seconds, self.warmup_s),
            "--in-flight",
            self.in_flight,
            *(["--bootstrap", self.kafka.bootstrap_servers()] if self.kafka else []),
            *(["--url", _url(self.rest, idx)] if self.rest else []),
            *_producer_props(self.settings),
        ]


class RestConsumerPerformanceService(_LoadGen):
    """Each worker reads ``num_records`` records of ``topic`` through the bridge: it makes a
    consumer instance in group ``group`` (default: its own per worker) with the binary embedded
    format, subscribes, and polls (up to ``max_bytes`` per poll) until it has them all; it fails
    after ``idle_timeout_ms`` without a record.

    ``results[i]``: records, records_per_sec, mbps, total_mb (of record values), elapsed_s, polls.
    """

    mode = "consume-rest"

    def __init__(
        self,
        cluster,
        num_nodes,
        rest,
        topic: str,
        num_records: int,
        group: str | None = None,
        max_bytes: int = 4 * 1024 * 1024,
        idle_timeout_ms: int = 30000,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, topic, **kwargs)
        self.rest, self.num_records, self.group = rest, num_records, group
        self.max_bytes, self.idle_timeout_ms = max_bytes, idle_timeout_ms

    def loadgen_args(self, idx):
        return [
            "--url",
            _url(self.rest, idx),
            "--topic",
            self.topic,
            "--records",
            self.num_records,
            "--group",
            self.group or f"{self.service_id}-{idx}",
            "--max-bytes",
            self.max_bytes,
            "--idle-timeout-ms",
            self.idle_timeout_ms,
        ]

    def _worker(self, idx, node: Node):
        super()._worker(idx, node)
        read = self.results[idx - 1]["records"]
        if read < self.num_records:
            raise ServiceError(
                f"{self.service_id} on {node.name}: read {read} of {self.num_records} records of {self.topic}"
            )


def _run_args(topic: str, record_size: int, seconds: float, warmup_s: float) -> list[object]:
    """LoadGen's arguments of what every produce run sends, for how long, after what warm-up."""
    return ["--topic", topic, "--record-size", record_size, "--seconds", seconds, "--warmup-s", warmup_s]


def _producer_props(settings: dict) -> list[str]:
    """``--producer-props k=v,...`` for the native path's producer ``settings`` (none if empty)."""
    props = ",".join(f"{k}={v}" for k, v in settings.items())
    return ["--producer-props", props] if props else []


def _rate(rate: float | None) -> str:
    """A rate as LoadGen reads it, in full (0: as fast as it goes)."""
    return repr(float(rate or 0))


def _url(rest, idx: int) -> str:
    return rest.url((idx - 1) % len(rest.nodes) + 1)
