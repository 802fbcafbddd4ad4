"""ZookeeperService: an Apache ZooKeeper ensemble, started from the ``zookeeper`` build."""

from __future__ import annotations

import re
import shlex
from types import MappingProxyType
from typing import Mapping

from ducttape.cluster import Cluster, Node
from ducttape.products import jvm
from ducttape.products.templates import render
from ducttape.services import Service

PROJECT = "zookeeper"
CLIENT_PORT, PEER_PORT, ELECTION_PORT = 2181, 2888, 3888
START_TIMEOUT = 120.0


class ZookeeperService(Service):
    """An ensemble of ``num_nodes`` ZooKeeper servers (standalone when there is one).

    Server ``i`` has ``myid`` i and every server lists all of them. A server is ready when it
    answers the ``srvr`` four-letter word with a ``Mode:`` line, i.e. it serves clients (a
    member of an ensemble only does once a quorum has formed). The check runs on the node in
    bash (``/dev/tcp``), which every node has; no nc or python needed.
    """

    logs = MappingProxyType({"output": "zookeeper.log", "config": "zoo.cfg"})
    builds = (PROJECT,)

    def __init__(
        self,
        cluster: Cluster,
        num_nodes: int = 1,
        settings: Mapping | None = None,
        heap: str = "256m",
        client_port: int = CLIENT_PORT,
    ):
        super().__init__(cluster, num_nodes)
        self.settings = dict(settings or {})
        self.heap = heap
        self.client_port = client_port

    def start_node(self, node: Node) -> None:
        data_dir = self.path(node, "data")
        servers = [{"myid": self.idx(n), "address": n.address} for n in self.nodes]
        node.account.create_file(
            self.path(node, "zoo.cfg"),
            render(
                "zoo.cfg.j2",
                service_id=self.service_id,
                myid=self.idx(node),
                address=node.address,
                data_dir=data_dir,
                client_port=self.client_port,
                peer_port=PEER_PORT,
                election_port=ELECTION_PORT,
                servers=servers if len(servers) > 1 else [],
                settings=self.settings,
            ),
        )
        node.account.create_file(self.path(node, "data", "myid"), f"{self.idx(node)}\n")
        node.account.create_file(
            self.path(node, "logback.xml"), render("logback.xml.j2", target="System.out", level="INFO")
        )
        logback = f"-Dlogback.configurationFile={self.path(node, 'logback.xml')}"
        self.spawn(
            node,
            jvm.command(node, PROJECT, "server", self.path(node, "zoo.cfg"), java_opts=jvm.opts(self.heap, logback)),
        )
        self.wait_for(
            node,
            lambda: self.mode(node) is not None,
            START_TIMEOUT,
            lambda: f"{self.service_id} on {node.name} did not answer srvr with a Mode within {START_TIMEOUT:g}s",
        )

    def connect_setting(self) -> str:
        """The connect string of the ensemble: ``host:port,...``."""
        return ",".join(f"{n.address}:{self.client_port}" for n in self.nodes)

    def four_letter_word(self, node: Node, word: str, timeout: float = 5) -> str:
        """Send a four-letter word to the server on ``node`` from the node itself; return the
        answer ('' when it does not answer)."""
        script = (
            f"exec 3<>/dev/tcp/{shlex.quote(node.address)}/{int(self.client_port)} && "
            f"printf %s {shlex.quote(word)} >&3 && cat <&3"
        )
        return node.account.ssh_output(
            f"timeout {timeout:g} bash -c {shlex.quote(script)} 2>/dev/null", allow_fail=True, timeout=timeout + 10
        )

    def mode(self, node: Node) -> str | None:
        """``leader``, ``follower`` or ``standalone`` if the server on ``node`` serves, else None."""
        m = re.search(r"^Mode: (\w+)", self.four_letter_word(node, "srvr"), re.M)
        return m[1] if m else None

    def leader(self) -> Node | None:
        """The node whose server leads the ensemble (None if none does right now)."""
        return next((n for n in self.nodes if self.mode(n) == "leader"), None)

    def client(self, *args: str, node: Node | None = None, server: Node | None = None, timeout: float = 60) -> str:
        """Run one ZooKeeperMain command (e.g. ``"create", "/a", "x"``) on ``node`` (default:
        the first) against ``server`` (default: the whole ensemble); return its stdout."""
        node = node or self.nodes[0]
        target = f"{server.address}:{self.client_port}" if server else self.connect_setting()
        logback = self.path(node, "client-logback.xml")
        node.account.create_file(logback, render("logback.xml.j2", target="System.err", level="WARN"))
        return node.account.ssh_output(
            jvm.command(
                node,
                PROJECT,
                "client",
                "-server",
                target,
                *args,
                java_opts=jvm.opts(jvm.TOOL_HEAP, jvm.TOOL_OPTS, f"-Dlogback.configurationFile={logback}"),
            ),
            timeout=timeout,
        )
