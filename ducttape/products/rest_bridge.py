"""RestProxyService: the Strimzi Kafka Bridge (HTTP/REST to Kafka), one instance per node.

The bridge is the git project ``strimzi-kafka-bridge`` of projects.yaml, built from source by
``invoke build``. Each instance is started as Strimzi's ``bin/kafka_bridge_run.sh`` starts it:
``io.strimzi.kafka.bridge.Application --config-file=application.properties`` on the project's
runtime classpath, with a log4j2 configuration given by ``-Dlog4j2.configurationFile`` and the
Vert.x cache under the service's own folder.
"""

from __future__ import annotations

import shlex
from types import MappingProxyType
from typing import Mapping

from ducttape.build import manifest
from ducttape.cluster import Cluster, Node
from ducttape.command_line import command
from ducttape.errors import ConfigError
from ducttape.products import jvm
from ducttape.products.scram import refuse_scram
from ducttape.products.templates import render
from ducttape.services import CAUSE_LINES, Service, ServiceError

BRIDGE_PROJECT = "strimzi-kafka-bridge"
PORT = 8080
START_TIMEOUT = 120.0
QUIET_LOGGERS = MappingProxyType(
    {"http.openapi.operation": "WARN", "org.apache.kafka.clients.admin.internals.AdminMetadataManager": "WARN"}
)
"""Strimzi logs every request at INFO through the first; under load that is most of the work.
Its admin client logs "Rebootstrapping" at INFO many times a second while Kafka is away, which
would bury the WARN lines that say why."""


def bridge_build(built: Mapping[str, dict] | None = None) -> dict:
    """What is built of the bridge: ``{"project", "version", "ref", "git_sha"}`` from the build
    manifest; ConfigError saying how to build it if it is not built."""
    built = manifest.read() if built is None else built
    entry = built.get(BRIDGE_PROJECT) or {}
    if entry.get("status") != "ok" or "bridge" not in (entry.get("main_classes") or {}):
        raise ConfigError(f"the Kafka HTTP bridge is not built: run `{command()} build --only {BRIDGE_PROJECT}`")
    return {
        "project": BRIDGE_PROJECT,
        "version": entry.get("version"),
        "ref": entry.get("ref"),
        "git_sha": entry.get("git_sha"),
    }


class RestProxyService(Service):
    """``num_nodes`` HTTP bridges in front of ``kafka`` (a KafkaService), each listening on
    ``http://node.address:port``.

    ``settings`` are added to application.properties (``kafka.producer.acks``,
    ``kafka.consumer.*``, ...). A bridge is ready when ``GET /ready`` answers 204 and its node
    can open a connection to a broker it was given; a bridge that exits first, or cannot reach
    Kafka, fails the start with its first errors or the end of its log. ``build`` says which
    bridge runs (project, version, git ref and SHA).
    """

    logs = MappingProxyType(
        {"output": "bridge.log", "config": "application.properties", "logging": "log4j2.properties"}
    )
    builds = (BRIDGE_PROJECT,)

    def __init__(
        self,
        cluster: Cluster,
        num_nodes: int,
        kafka,
        settings: Mapping | None = None,
        heap: str = "512m",
        port: int = PORT,
    ):
        refuse_scram(kafka, type(self).__name__)
        super().__init__(cluster, num_nodes)
        self.kafka = kafka
        self.settings = dict(settings or {})
        self.heap = heap
        self.port = port
        self.build = bridge_build()

    def url(self, idx: int = 1) -> str:
        """The base URL of the bridge on node ``idx`` (1-based)."""
        return f"http://{self.nodes[idx - 1].address}:{self.port}"

    def bootstrap_servers(self) -> str:
        """The brokers the bridges are given (``kafka.bootstrap.servers`` in settings wins)."""
        return str(self.settings.get("kafka.bootstrap.servers") or self.kafka.bootstrap_servers())

    def start_node(self, node: Node) -> None:
        bootstrap = self.bootstrap_servers()
        if not bootstrap:
            raise ConfigError(f"{self.service_id}: {self.kafka.service_id} has no brokers; start it before the bridge")
        settings = {k: v for k, v in self.settings.items() if k != "kafka.bootstrap.servers"}
        node.account.create_file(
            self.path(node, "application.properties"),
            render(
                "bridge-application.properties.j2",
                service_id=self.service_id,
                bridge_id=f"{self.service_id}-{self.idx(node)}",
                address=node.address,
                port=self.port,
                bootstrap_servers=bootstrap,
                settings=settings,
            ),
        )
        node.account.create_file(
            self.path(node, "log4j2.properties"),
            render("log4j2.properties.j2", target="SYSTEM_OUT", level="INFO", loggers=QUIET_LOGGERS),
        )
        java_opts = jvm.opts(
            self.heap,
            f"-Dlog4j2.configurationFile={self.path(node, 'log4j2.properties')}",
            f"-Dvertx.cacheDirBase={self.path(node, 'vertx-cache')}",
            "-Djava.security.egd=file:/dev/./urandom",
        )
        self.spawn(
            node,
            jvm.command(
                node,
                BRIDGE_PROJECT,
                "bridge",
                f"--config-file={self.path(node, 'application.properties')}",
                java_opts=java_opts,
            ),
        )
        self.wait_for_http(node, self.port, "/ready", timeout=START_TIMEOUT, status=204)
        self._check_reaches_kafka(node, bootstrap)

    def log_tail(self, node: Node, lines: int = 8, log: str = "output") -> str:
        """The first errors in the node's log if there are any (why it failed), else its end."""
        return jvm.log_errors(self, node, lines, log) or super().log_tail(node, lines, log)

    def log_causes(self, node: Node, log: str = "output") -> list[str]:
        """The first ERROR and FATAL entries of the node's log (its configuration dump, where
        words such as "failed" are setting names, says nothing of why it gave up)."""
        return jvm.error_lines(self, node, CAUSE_LINES, log)

    def _check_reaches_kafka(self, node: Node, bootstrap: str) -> None:
        """Fail unless some broker of ``bootstrap`` accepts a TCP connection from ``node``."""
        for server in bootstrap.split(","):
            host, _, port = server.strip().rpartition(":")
            probe = f"exec 3<>/dev/tcp/{shlex.quote(host)}/{int(port)}"
            if (
                node.account.ssh(f"timeout 5 bash -c {shlex.quote(probe)} 2>/dev/null", allow_fail=True, timeout=30)
                == 0
            ):
                return
        tail = self.log_tail(node, lines=4)
        raise ServiceError(
            f"{self.service_id} on {node.name}: the bridge cannot reach Kafka: no "
            f"broker of {bootstrap} accepts connections from {node.name}"
            + (f"; last lines of {self.path(node, self.logs['output'])}: {tail}" if tail else "")
        )
