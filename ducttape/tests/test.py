"""Base classes of the Kafka and ZooKeeper scenarios (the runner does not treat this module as a
scenario)."""

from __future__ import annotations

import os
import time
from types import MappingProxyType
from typing import Mapping, Sequence

from tabulate import tabulate

from ducttape.errors import ConfigError
from ducttape.faults import HISTORY_FILE, INFO, OK, FaultSet, History, Nemesis, checkers
from ducttape.faults.nemesis import Step
from ducttape.faults.plots import plot_history
from ducttape.products.kafka import KafkaService
from ducttape.products.rest_bridge import RestProxyService
from ducttape.products.verifiable import VerifiableConsumerService, VerifiableProducerService
from ducttape.products.zookeeper import ZookeeperService
from ducttape.remote.account import poll
from ducttape.runner import Test
from ducttape.validate import is_seconds


class KafkaTest(Test):
    """Kafka in KRaft mode: ``num_brokers`` brokers (each also a controller, unless there are
    ``num_controllers`` controllers of their own) with ``topics`` and ``kafka_settings``, started
    in setUp as ``self.kafka`` and stopped in tearDown."""

    num_brokers = 1
    num_controllers = 0
    topics: Mapping[str, Mapping] = MappingProxyType({})
    kafka_settings: Mapping[str, object] = MappingProxyType({})

    def setUp(self) -> None:
        self.kafka = KafkaService(
            self.cluster,
            self.num_brokers,
            topics=self.topics,
            controllers=self.num_controllers,
            settings=self.kafka_settings,
        )
        self.kafka.start()

    def tearDown(self) -> None:
        self.kafka.stop()


class RestProxyTest(KafkaTest):
    """KafkaTest plus ``num_rest`` HTTP bridges (``self.rest``) with ``rest_settings``,
    started after Kafka and stopped before it."""

    num_rest = 1
    rest_settings: Mapping[str, object] = MappingProxyType({})

    def setUp(self) -> None:
        super().setUp()
        self.rest = RestProxyService(self.cluster, self.num_rest, self.kafka, settings=self.rest_settings)
        self.rest.start()

    def tearDown(self) -> None:
        try:
            self.rest.stop()
        finally:
            super().tearDown()


class ZookeeperTest(Test):
    """A ZooKeeper ensemble of ``num_servers`` servers, started in setUp as ``self.zk`` and
    stopped in tearDown."""

    num_servers = 3

    def setUp(self) -> None:
        self.zk = ZookeeperService(self.cluster, self.num_servers)
        self.zk.start()

    def tearDown(self) -> None:
        self.zk.stop()


class FaultTest(Test):
    """A test that breaks things on purpose (mix in before a service base such as KafkaTest):
    ``self.history`` (``history.jsonl`` in the test's results) and ``self.faults``, made after
    the base's services so the runner heals the faults before stopping those services.

    ``self.nemesis(steps)`` runs the faults on the test's timeline: ``quiet`` and ``active``
    seconds, the class's defaults unless the session gives ``--param quiet=S`` or ``--param
    active=S``; a bad value fails the test in setUp, before any service starts."""

    quiet = 10.0
    """Seconds of workload before the first fault, between faults and after the last."""
    active = 20.0
    """Seconds each fault lasts."""

    def setUp(self) -> None:
        self.quiet = seconds_param(self.params, "quiet", self.quiet)
        self.active = seconds_param(self.params, "active", self.active)
        super().setUp()
        self.history = History(os.path.join(self.results_dir, HISTORY_FILE))
        self.faults = FaultSet(self.cluster, self.history)

    def tearDown(self) -> None:
        try:
            self.faults.stop()
            super().tearDown()
        finally:
            self.history.close()

    def nemesis(self, steps: Sequence[Step]) -> Nemesis:
        """A Nemesis that runs ``steps`` on the test's timeline (``self.quiet``, ``self.active``)."""
        return Nemesis(self.faults, steps, quiet=self.quiet, active=self.active)

    def verdict(self, title: str, write: str = "send", read: str = "read") -> dict:
        """Run the checkers on the history, plot it into the test's results and show a summary;
        return the checkers' findings (the test asserts on them) and the timeline they ran on
        (``timeline``: ``quiet_s``, ``active_s``)."""
        durability = checkers.lost_and_duplicates(self.history, write, read)
        available = checkers.availability(self.history, write)
        phases = checkers.latency_phases(self.history, write)
        plot_history(self.history, os.path.join(self.results_dir, "history.png"), title, f=write)
        self.show(
            tabulate(
                [
                    (
                        p["phase"],
                        p["duration_s"],
                        p["throughput_per_s"],
                        p["latency_ms"].get("p50"),
                        p["latency_ms"].get("p99"),
                        p["latency_ms"].get("max"),
                    )
                    for p in phases
                ],
                headers=("phase", "s", f"{write} ok/s", "p50 ms", "p99 ms", "max ms"),
            )
        )
        self.show(
            f"{durability['acknowledged']} acknowledged, {durability['lost']} lost, "
            f"{durability['duplicates']} duplicates; longest without an ack: "
            + ", ".join(f"{f['longest_unavailable_s']:g} s ({f['fault']})" for f in available["per_fault"])
        )
        return {
            "durability": durability,
            "availability": available,
            "phases": phases,
            "timeline": {"quiet_s": self.quiet, "active_s": self.active},
        }


def seconds_param(params: Mapping[str, object], name: str, default: float) -> float:
    """The session's ``--param NAME=S`` as seconds (a number above 0), ``default`` when it is not
    given; ConfigError names a bad value in one line."""
    value = params.get(name, default)
    if not is_seconds(value):
        raise ConfigError(
            f"--param {name}={value!r} is not a number of seconds above 0: use e.g. {name}={default:g} (the default)"
        )
    return float(value)


class KafkaFaultTest(FaultTest, KafkaTest):
    """KafkaTest with faults: ``produce_under(nemesis, ...)`` writes at a fixed rate with
    acks=all while the nemesis runs, then reads the topic back until every acknowledged record
    was read; sends and reads go to the history."""

    consume_timeout = 240.0

    def produce_under(
        self, nemesis: Nemesis, topic: str, rate: int, settings: Mapping[str, object]
    ) -> VerifiableProducerService:
        """Produce ``rate`` records a second for the nemesis's whole schedule, which starts once
        the first record is acknowledged; return the (stopped) producer."""
        on_event = kafka_events_to(self.history, rate)
        producer = VerifiableProducerService(
            self.cluster,
            1,
            self.kafka,
            topic,
            max_messages=-1,
            throughput=rate,
            acks=-1,
            settings=settings,
            on_event=on_event,
        )
        producer.start()
        poll(lambda: producer.num_acked() > 0, 120, lambda: "no record acknowledged within 120s", guard=producer.check)
        nemesis.start()  # so the quiet time before the first fault is time the workload runs
        # the producer runs until the schedule ends, not for a count of records: its pace starts
        # before the first ack, and each fault takes a moment to start and to heal, so a count
        # would run out before the schedule and end a fault early when the last quiet is short
        waited = nemesis.duration + 120
        try:
            poll(
                lambda: not nemesis.running,
                waited,
                lambda: f"the nemesis's schedule ({nemesis.duration:g}s) had not ended after {waited:g}s",
                guard=producer.check,
            )
        finally:
            nemesis.stop()
        producer.stop()  # SIGTERM: it stops sending and waits for the acks of what it sent

        consumer = VerifiableConsumerService(self.cluster, 1, self.kafka, topic, on_event=on_event)
        consumer.start()
        poll(
            lambda: not consumer.missing(producer.acked),
            self.consume_timeout,
            lambda: (
                f"{len(consumer.missing(producer.acked))} of {len(producer.acked)} "
                f"acknowledged records not consumed after {self.consume_timeout:g}s"
            ),
            guard=consumer.check,
        )
        consumer.stop()
        return producer


def kafka_events_to(history: History, throughput: int):
    """An ``on_event`` for VerifiableProducer/VerifiableConsumer services that writes their
    sends and reads to ``history``.

    A send's latency runs from its intended send time, so a stall shows in full: the producer
    paces ``throughput`` records per second from its start, which it reports a moment late
    (``startup_complete``); an ack that came sooner after it than its place in the pace allows
    moves the estimated start back."""
    started: dict[int, float] = {}

    def on_event(idx: int, event: dict) -> None:
        name = event.get("name")
        at = event.get("timestamp", time.time() * 1000) / 1000
        if name == "startup_complete":
            started[idx] = at
        elif name == "producer_send_success":
            intended = int(str(event["value"]).rsplit(".", 1)[1]) / throughput
            started[idx] = min(started.get(idx, at), at - intended)
            history.op("send", event["value"], OK, idx, time_s=at, latency=at - (started[idx] + intended))
        elif name == "producer_send_error":
            # not acknowledged; whether it was written is unknown
            history.op(
                "send", event["value"], INFO, idx, time_s=at, error=event.get("exception") or event.get("message")
            )
        elif name == "record_data":
            history.op("read", event["value"], OK, idx, time_s=at)

    return on_event
