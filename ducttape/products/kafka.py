"""KafkaService: Apache Kafka brokers in KRaft mode, started from the ``kafka`` build."""

from __future__ import annotations

import base64
import re
import uuid
from types import MappingProxyType
from typing import Mapping

from ducttape.cluster import Cluster, Node
from ducttape.errors import ConfigError
from ducttape.products import jvm
from ducttape.products.scram import Scram
from ducttape.products.templates import properties_file, properties_value, render
from ducttape.remote import RemoteCommandError
from ducttape.services import CAUSE_LINES, Service, ServiceError

PROJECT = "kafka"
PORT, CONTROLLER_PORT = 9092, 9093
CONTROLLER_ID_BASE = 3000
"""Separate controllers get node ids 3001, 3002, ...; brokers 1, 2, ..."""
READY = r"Kafka Server started"
START_TIMEOUT = 180.0
TOPIC_KEYS = {"partitions", "replication-factor", "configs"}


class _KafkaServers(Service):
    """Kafka server processes of one Kafka cluster: brokers or controllers (``roles``)."""

    logs = MappingProxyType({"output": "kafka.log", "config": "server.properties"})
    builds = (PROJECT,)
    roles = "broker,controller"

    def __init__(
        self,
        cluster: Cluster,
        num_nodes: int,
        cluster_id: str,
        settings: Mapping,
        heap: str,
        port: int,
        controller_port: int,
        num_brokers: int,
        scram: Scram | None = None,
    ):
        super().__init__(cluster, num_nodes)
        self.scram = scram
        self.cluster_id = cluster_id
        self.settings = dict(settings)
        self.heap = heap
        self.port = port
        self.controller_port = controller_port
        self.num_brokers = num_brokers

    def node_id(self, node: Node) -> int:
        """The ``node.id`` of ``node``."""
        raise NotImplementedError

    def voters(self) -> str:
        """``controller.quorum.voters``: ``id@host:port,...``."""
        raise NotImplementedError

    def start_node(self, node: Node) -> None:
        self._write_config(node)
        self._format_storage(node)
        monitor = node.account.monitor_log(self.path(node, self.logs["output"]))
        log4j = f"-Dlog4j2.configurationFile={self.path(node, 'log4j2.properties')}"
        self.spawn(
            node,
            jvm.command(
                node, PROJECT, "broker", self.path(node, "server.properties"), java_opts=jvm.opts(self.heap, log4j)
            ),
        )
        self.wait_for_log(node, monitor, READY, timeout=START_TIMEOUT)

    def log_tail(self, node: Node, lines: int = 8, log: str = "output") -> str:
        """The first errors in the node's log if there are any (why it failed), else its end."""
        return jvm.log_errors(self, node, lines, log) or super().log_tail(node, lines, log)

    def log_causes(self, node: Node, log: str = "output") -> list[str]:
        """The first ERROR and FATAL entries of the node's log (its configuration dump, where
        words such as "failed" are setting names, says nothing of why it gave up)."""
        return jvm.error_lines(self, node, CAUSE_LINES, log)

    def run_tool(self, role: str, *args: object, node: Node | None = None, timeout: float = 120) -> str:
        """Run a Kafka command-line tool (a role in projects.yaml: ``topics``, ``configs``, ...)
        on ``node`` (default: the first node); return its stdout."""
        node = node or self.nodes[0]
        log4j = self.path(node, "tools-log4j2.properties")
        if not node.account.exists(log4j):
            node.account.create_file(
                log4j, render("log4j2.properties.j2", target="SYSTEM_ERR", level="WARN", loggers={})
            )
        cmd = jvm.command(
            node,
            PROJECT,
            role,
            *args,
            java_opts=jvm.opts(jvm.TOOL_HEAP, jvm.TOOL_OPTS, f"-Dlog4j2.configurationFile={log4j}"),
        )
        try:
            return node.account.ssh_output(cmd, timeout=timeout)
        except RemoteCommandError as exc:
            what = f"timed out after {exc.timeout:g}s" if exc.timeout is not None else f"exited {exc.exit_status}"
            said = jvm.summary(exc.stderr + exc.stdout)
            raise ServiceError(
                f"{self.service_id} on {node.name}: kafka {role} "
                f"{' '.join(str(a) for a in args[:2])} ... {what}" + (f": {said}" if said else "")
            ) from None

    def client_settings(self) -> dict[str, str]:
        """The client configs that connecting to these brokers needs: the SCRAM login with
        ``scram``, else none."""
        return self.scram.client_settings() if self.scram else {}

    def client_config(self, node: Node) -> str:
        """Path of a client config file on ``node`` (its owner alone may read it) with
        ``client_settings``, for the Kafka tools' ``--command-config``, ``--producer.config``
        and the like."""
        path = self.path(node, "client.properties")
        node.account.create_file(path, properties_file(self.client_settings()), private=True)
        return path

    def _write_config(self, node: Node) -> None:
        config = render(
            "kafka-server.properties.j2",
            service_id=self.service_id,
            node_id=self.node_id(node),
            roles=self.roles,
            address=node.address,
            port=self.port,
            controller_port=self.controller_port,
            voters=self.voters(),
            log_dir=self.path(node, "data"),
            internal_replication=min(3, self.num_brokers),
            settings=self.settings,
            scram_mechanism=self.scram.mechanism if self.scram else "",
            scram_jaas=properties_value(self.scram.jaas_config()) if self.scram else "",
        )
        node.account.create_file(self.path(node, "server.properties"), config, private=self.scram is not None)
        node.account.create_file(
            self.path(node, "log4j2.properties"),
            render("log4j2.properties.j2", target="SYSTEM_OUT", level="INFO", loggers={}),
        )

    def _format_storage(self, node: Node) -> None:
        """``kafka-storage format`` with the cluster id, unless the node's storage already is
        (a restarted node keeps its data)."""
        if node.account.exists(self.path(node, "data", "meta.properties")):
            return
        self.run_tool(
            "storage",
            "format",
            "--ignore-formatted",
            "-t",
            self.cluster_id,
            "-c",
            self.path(node, "server.properties"),
            *(["--add-scram", self.scram.storage_argument()] if self.scram else []),
            node=node,
        )


class KafkaService(_KafkaServers):
    """``num_nodes`` Kafka brokers in KRaft mode.

    By default every broker is also a controller (``process.roles=broker,controller``, all of
    them voters). With ``controllers=N`` the quorum is N controller-only nodes of their own
    (``self.quorum``), started before the brokers and stopped after them.

    ``scram`` (a ``Scram`` user) makes the brokers' listener SASL_PLAINTEXT: every client must
    log in as that user (``client_settings``, ``client_config``; the services of
    ``ducttape.products.performance`` and ``verifiable`` do by themselves). The user is created
    when the storage is formatted; brokers log in to each other as it too.

    ``topics`` maps a name to ``{"partitions": 6, "replication-factor": 3, "configs": {...}}``;
    they are created once all brokers run. ``settings`` are added to every server.properties.
    Each node's storage is formatted with the service's cluster id before its first start.
    A node is ready when its log says ``Kafka Server started``; one that exits before that
    fails the start at once, with the end of its log in the error.
    """

    def __init__(
        self,
        cluster: Cluster,
        num_nodes: int = 1,
        topics: Mapping | None = None,
        controllers: int = 0,
        settings: Mapping | None = None,
        heap: str = "512m",
        port: int = PORT,
        controller_port: int = CONTROLLER_PORT,
        scram: Scram | None = None,
    ):
        cluster_id, settings = new_cluster_id(), dict(settings or {})
        # made first, so the runner (which stops services in reverse order) stops it last
        self.quorum = (
            KafkaControllerService(
                cluster, controllers, self, cluster_id, settings, heap, port, controller_port, num_nodes, scram
            )
            if controllers
            else None
        )
        super().__init__(cluster, num_nodes, cluster_id, settings, heap, port, controller_port, num_nodes, scram)
        self.topics = {name: _topic_spec(name, spec) for name, spec in (topics or {}).items()}
        if self.quorum:
            self.roles = "broker"

    def start(self) -> None:
        """Start the controllers (if separate), then the brokers, then create the topics."""
        if self.quorum and not self.quorum.nodes:
            self.quorum.nodes = self.cluster.request(self.quorum.num_nodes)
        if not self.nodes:
            self.nodes = self.cluster.request(self.num_nodes)
        if self.quorum:
            self.quorum.start()
        super().start()
        for name, spec in self.topics.items():
            self.create_topic(name, **spec)

    def stop(self) -> None:
        """Stop the brokers, then the separate controllers."""
        try:
            if self.nodes and not self.quorum:
                self._stop_combined()
        finally:
            try:
                super().stop()
            finally:
                if self.quorum:
                    self.quorum.stop()

    def _stop_combined(self) -> None:
        """Stop combined broker+controller nodes one at a time. A broker's controlled shutdown
        needs a controller quorum, so the nodes still running once there is none left (the
        last one of three, say) get SIGKILL instead of hanging until the stop timeout."""
        running = [n for n in self.nodes if self.alive(n)]
        for node in reversed(running):
            clean = len(running) > len(self.nodes) // 2
            if not clean:
                self.logger.info(
                    "%s: %d of %d controllers left, no quorum for a controlled shutdown of %s: killing it",
                    self.service_id,
                    len(running),
                    len(self.nodes),
                    node.name,
                )
            self.stop_node(node, clean_shutdown=clean)
            running.remove(node)

    def node_id(self, node: Node) -> int:
        return self.idx(node)

    def voters(self) -> str:
        quorum = self.quorum or self
        return ",".join(f"{quorum.node_id(n)}@{n.address}:{self.controller_port}" for n in quorum.nodes)

    def bootstrap_servers(self) -> str:
        """``host:port,...`` of every broker."""
        return ",".join(f"{node.address}:{self.port}" for node in self.nodes)

    def admin_args(self, node: Node | None = None) -> list[str]:
        """``--bootstrap-server`` and, with ``scram``, ``--command-config``: the arguments
        with which an admin tool (``topics``, ``configs``, ``consumer-groups``) run by
        ``run_tool`` on ``node`` (default: the first node) reaches the brokers."""
        args = ["--bootstrap-server", self.bootstrap_servers()]
        if self.scram:
            args += ["--command-config", self.client_config(node or self.nodes[0])]
        return args

    def create_topic(
        self, name: str, partitions: int = 1, replication_factor: int = 1, configs: Mapping | None = None
    ) -> None:
        """Create topic ``name`` with the topics tool."""
        self.logger.info(
            "creating topic %s (%d partitions, replication factor %d%s)",
            name,
            partitions,
            replication_factor,
            "".join(f", {k}={v}" for k, v in (configs or {}).items()),
        )
        args = ["--create", "--topic", name, "--partitions", partitions, "--replication-factor", replication_factor]
        for key, value in (configs or {}).items():
            args += ["--config", f"{key}={value}"]
        self.run_tool("topics", *self.admin_args(), *args)

    def describe_topic(self, name: str) -> list[dict]:
        """One dict per partition: ``partition``, ``leader`` (a node id, None when it has
        none), ``replicas`` and ``isr`` (lists of node ids)."""
        out = self.run_tool("topics", *self.admin_args(), "--describe", "--topic", name)
        partitions = []
        for m in re.finditer(
            r"Partition:\s*(\d+)\s+Leader:\s*(-?\w+)\s+Replicas:\s*([\d,]*)"
            r"\s+Isr:\s*([\d,]*)",
            out,
        ):
            leader = int(m[2]) if m[2].isdigit() else None
            partitions.append({"partition": int(m[1]), "leader": leader, "replicas": _ids(m[3]), "isr": _ids(m[4])})
        return partitions

    def leader(self, topic: str, partition: int = 0) -> Node | None:
        """The broker leading ``partition`` of ``topic`` (None while it has no leader)."""
        for p in self.describe_topic(topic):
            if p["partition"] == partition:
                return next((n for n in self.nodes if self.node_id(n) == p["leader"]), None)
        raise ConfigError(f"topic {topic!r} has no partition {partition}")


class KafkaControllerService(_KafkaServers):
    """The controller-only KRaft quorum of a KafkaService made with ``controllers=N``; that
    service starts and stops it. Node ids are 3001, 3002, ..."""

    roles = "controller"

    def __init__(self, cluster: Cluster, num_nodes: int, kafka: KafkaService, *args):
        super().__init__(cluster, num_nodes, *args)
        self.kafka = kafka

    def node_id(self, node: Node) -> int:
        return CONTROLLER_ID_BASE + self.idx(node)

    def voters(self) -> str:
        return self.kafka.voters()


def new_cluster_id() -> str:
    """A random KRaft cluster id, as ``kafka-storage random-uuid`` makes them (base64url of a
    UUID, never starting with '-', which tools would read as an option)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _topic_spec(name: str, spec: Mapping) -> dict:
    unknown = set(spec) - TOPIC_KEYS
    if unknown:
        raise ConfigError(
            f"topic {name!r}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(TOPIC_KEYS))})"
        )
    return {
        "partitions": int(spec.get("partitions", 1)),
        "replication_factor": int(spec.get("replication-factor", 1)),
        "configs": dict(spec.get("configs", {})),
    }


def _ids(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip().isdigit()]
