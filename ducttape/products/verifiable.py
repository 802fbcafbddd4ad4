"""Clients that say what happened to every record: Kafka's VerifiableProducer and
VerifiableConsumer, for checks such as "every acknowledged record was consumed"."""

from __future__ import annotations

import json
import threading
from typing import Callable, Mapping

from ducttape.cluster import Node
from ducttape.products.performance.base import ToolService


class _JsonEvents(ToolService):
    """Runs a tool that prints one JSON event per line; ``on_event(idx, event)``, if given, sees
    every event of worker ``idx`` as it arrives (e.g. to write a history of operations)."""

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        settings: Mapping | None,
        on_event: Callable[[int, dict], None] | None = None,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, **kwargs)
        self.kafka, self.topic = kafka, topic
        self.settings = dict(settings or {})
        self.on_event = on_event
        self.lock = threading.Lock()

    config_option = ""
    """The tool's option naming a client config file."""

    def events(self, node: Node, role: str, *args: object):
        """The JSON events tool ``role`` prints, as it prints them."""
        config = self.client_config(node, "client.properties", self.kafka, self.settings)
        if config:
            args += (self.config_option, config)
        for line in self.tool_lines(node, self.kafka_tool(node, role, *args)):
            if line.startswith("{"):
                event = json.loads(line)
                if self.on_event:
                    self.on_event(self.idx(node), event)
                yield event


class VerifiableProducerService(_JsonEvents):
    """Each worker produces increasing integers (``"<idx>.<n>"`` as values) to ``topic`` with
    VerifiableProducer: ``max_messages`` of them (-1: until stopped), at most ``throughput``
    per second, with ``acks``.

    ``acked`` and ``not_acked`` hold the values the brokers did and did not acknowledge, as
    they happen; ``results[i]``: sent, acked, not_acked (counts of worker i).
    """

    config_option = "--producer.config"

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        max_messages: int = -1,
        throughput: int = -1,
        acks: int | str = -1,
        settings: Mapping | None = None,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, kafka, topic, settings, **kwargs)
        self.max_messages, self.throughput, self.acks = max_messages, throughput, acks
        self.acked: list[str] = []
        self.not_acked: list[str] = []
        self.last_errors: list[str] = []

    def num_acked(self) -> int:
        """How many records the brokers have acknowledged so far."""
        with self.lock:
            return len(self.acked)

    def _worker(self, idx, node):
        counts = {"sent": 0, "acked": 0, "not_acked": 0}
        self.results[idx - 1] = counts
        for event in self.events(
            node,
            "verifiable-producer",
            "--bootstrap-server",
            self.kafka.bootstrap_servers(),
            "--topic",
            self.topic,
            "--max-messages",
            self.max_messages,
            "--throughput",
            self.throughput,
            "--acks",
            self.acks,
            "--value-prefix",
            idx,
        ):
            name = event.get("name")
            with self.lock:
                if name == "producer_send_success":
                    self.acked.append(event["value"])
                    counts["acked"] += 1
                elif name == "producer_send_error":
                    self.not_acked.append(event["value"])
                    counts["not_acked"] += 1
                    self.last_errors = (self.last_errors + [event.get("message", "")])[-5:]
                elif name == "tool_data":
                    counts["sent"] = int(event.get("sent", 0))


class VerifiableConsumerService(_JsonEvents):
    """Each worker reads ``topic`` in consumer group ``group`` with VerifiableConsumer
    (``--verbose``: every record), ``max_messages`` of them (-1: until stopped), from the
    earliest offset.

    ``consumed`` maps each value read to how many times it was read; ``results[i]``: records
    (read by worker i).
    """

    config_option = "--consumer.config"

    def __init__(
        self,
        cluster,
        num_nodes,
        kafka,
        topic: str,
        group: str = "ducttape-verifier",
        max_messages: int = -1,
        settings: Mapping | None = None,
        **kwargs,
    ):
        super().__init__(cluster, num_nodes, kafka, topic, settings, **kwargs)
        self.group, self.max_messages = group, max_messages
        self.consumed: dict[str, int] = {}

    def missing(self, values) -> list[str]:
        """Those of ``values`` not consumed (yet)."""
        with self.lock:
            return [v for v in values if v not in self.consumed]

    def _worker(self, idx, node):
        counts = {"records": 0}
        self.results[idx - 1] = counts
        for event in self.events(
            node,
            "verifiable-consumer",
            "--bootstrap-server",
            self.kafka.bootstrap_servers(),
            "--topic",
            self.topic,
            "--group-id",
            self.group,
            "--max-messages",
            self.max_messages,
            "--reset-policy",
            "earliest",
            "--verbose",
        ):
            if event.get("name") == "record_data":
                with self.lock:
                    self.consumed[event["value"]] = self.consumed.get(event["value"], 0) + 1
                    counts["records"] += 1
