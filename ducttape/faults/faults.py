"""Faults a test starts and heals, and the FaultSet that runs them and records them.

A fault is described first (``Partition([[a], [b, c]])``), checked against the cluster before
any workload runs (unknown node, a node named twice, a network fault where there is no network
of its own, netem asked for where the kernel has none: one-line ``ConfigError``), then started
and healed through a ``FaultSet``, which writes both events to the test's history.

Network faults change only the nodes' own network namespaces (docker workers) or hosts (json
clusters): iptables chains of their own and tc qdiscs, matching the addresses of the cluster's
other nodes, never the control connection the driver's commands use. On the localhost cluster
the logical nodes share this machine's network, so only process faults (kill, pause) apply.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
import uuid
from typing import TYPE_CHECKING, Sequence

from ducttape.cluster import Cluster, Node
from ducttape.errors import ConfigError
from ducttape.faults import net
from ducttape.faults.history import History
from ducttape.faults.proxy import Toxiproxy, require_binary
from ducttape.parallel import parallel_map
from ducttape.remote.account import poll
from ducttape.remote.local import LocalAccount
from ducttape.runner import context as test_context

if TYPE_CHECKING:
    from ducttape.services.service import Service

log = logging.getLogger("ducttape.faults")
STOP_TIMEOUT = 10.0
"""Seconds a paused process may take to reach the stopped state after SIGSTOP."""
DELAY_METHODS = ("auto", "netem", "proxy")


class Fault:
    """One fault: ``check`` it, ``start`` it, ``heal`` it. ``clean`` undoes whatever of it is
    still in place without the fault's normal ending (the runner's teardown after a failure)."""

    kind = "fault"
    network = False

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.started: float | None = None
        self.ended: float | None = None

    @property
    def nodes(self) -> list[Node]:
        """The nodes the fault changes."""
        raise NotImplementedError

    @property
    def targets(self) -> list[str]:
        """The names of the nodes the fault changes (as the history records them)."""
        return [n.name for n in self.nodes]

    def describe(self) -> str:
        """The fault in a few words, e.g. ``partition node1 | node2, node3`` (logs, history)."""
        return f"{self.kind} {', '.join(self.targets)}"

    def undo(self) -> dict[str, list[str]]:
        """Per node name, the commands that undo what of the fault is in place, for the runner
        to run when the test's process is gone (its processes are ended by the runner anyway)."""
        return {}

    def check(self, cluster: Cluster) -> None:
        """Raise ConfigError (one line) if the fault cannot apply to ``cluster``."""
        for node in self.nodes:
            if node not in cluster.nodes:
                raise ConfigError(
                    f"{self.describe()}: {node.name} is not a node of this test's "
                    f"cluster ({', '.join(n.name for n in cluster.nodes)})"
                )
        if self.network:
            local = [n.name for n in self.nodes if isinstance(n.account, LocalAccount)]
            if local:
                raise ConfigError(
                    f"{self.describe()}: network faults need nodes with a network of their own; "
                    f"{local[0]} is a logical node of the localhost cluster (only kill and pause "
                    "work there): run the test with --cluster vagrant"
                )

    def start(self, cluster: Cluster) -> None:
        """Put the fault in place on its nodes of ``cluster`` (call ``FaultSet.start``, which
        checks and records it, rather than this)."""
        raise NotImplementedError

    def heal(self) -> None:
        """Undo the fault (call ``FaultSet.heal``, which records it, rather than this)."""
        raise NotImplementedError

    def clean(self) -> None:
        """Default: healing is the cleanup."""
        self.heal()


def _peers(node: Node, cluster: Cluster) -> list[Node]:
    return [n for n in cluster.nodes if n is not node]


class Partition(Fault):
    """Traffic between nodes of different ``groups`` is dropped, both ways; within a group it
    flows. Nodes of the cluster in no group are left alone."""

    kind = "partition"
    network = True

    def __init__(self, groups: Sequence[Sequence[Node]]):
        super().__init__()
        self.groups = [list(g) for g in groups]
        self._applied: list[Node] = []

    @property
    def nodes(self) -> list[Node]:
        return [n for g in self.groups for n in g]

    def describe(self) -> str:
        return f"{self.kind} " + " | ".join(",".join(n.name for n in g) for g in self.groups)

    def check(self, cluster: Cluster) -> None:
        if len(self.groups) < 2 or not all(self.groups):
            raise ConfigError(f"{self.describe()}: a partition needs at least two non-empty groups")
        seen: set[str] = set()
        for node in self.nodes:
            if node.name in seen:
                raise ConfigError(f"{self.describe()}: {node.name} is named twice; each node may be in one group only")
            seen.add(node.name)
        super().check(cluster)

    def start(self, cluster: Cluster) -> None:
        chain = net.chain_name(self.id)
        others = {n: [o for g in self.groups if n not in g for o in g] for n in self.nodes}
        self._applied = self.nodes
        parallel_map(
            lambda node: net.add_chain(
                node,
                chain,
                [("INPUT", ""), ("OUTPUT", "")],
                [net.args("-s", o.address, "-j", "DROP") for o in others[node]]
                + [net.args("-d", o.address, "-j", "DROP") for o in others[node]],
            ),
            self.nodes,
        )

    def heal(self) -> None:
        parallel_map(lambda node: net.remove_chains(node, net.chain_name(self.id)), self._applied)
        self._applied = []

    def undo(self) -> dict[str, list[str]]:
        script = net.as_root(net.remove_chains_script(net.chain_name(self.id)))
        return {node.name: [script] for node in self._applied}


class Isolate(Partition):
    """``node`` is cut off from every other node of the cluster (a partition of one)."""

    kind = "isolate"

    def __init__(self, node: Node):
        super().__init__([[node]])
        self.node = node

    @property
    def targets(self) -> list[str]:
        return [self.node.name]

    def describe(self) -> str:
        return f"{self.kind} {self.node.name}"

    def check(self, cluster: Cluster) -> None:
        self.groups = [[self.node], _peers(self.node, cluster)]
        super().check(cluster)


class _OneNodeNetworkFault(Fault):
    network = True

    def __init__(self, node: Node):
        super().__init__()
        self.node = node
        self._applied = False

    @property
    def nodes(self) -> list[Node]:
        return [self.node]

    def undo(self) -> dict[str, list[str]]:
        if not self._applied:
            return {}
        return {self.node.name: [net.as_root(net.remove_chains_script(net.chain_name(self.id)))]}


class Loss(_OneNodeNetworkFault):
    """``node`` drops ``percent`` % of the packets it sends to the cluster's other nodes, at
    random (iptables ``statistic``)."""

    kind = "loss"

    def __init__(self, node: Node, percent: float):
        super().__init__(node)
        self.percent = percent

    def describe(self) -> str:
        return f"{self.kind} {self.percent:g}% {self.node.name}"

    def check(self, cluster: Cluster) -> None:
        if not 0 < self.percent <= 100:
            raise ConfigError(f"{self.describe()}: percent must be in (0, 100]")
        super().check(cluster)

    def start(self, cluster: Cluster) -> None:
        rules = [
            net.args(
                "-d",
                o.address,
                "-m",
                "statistic",
                "--mode",
                "random",
                "--probability",
                f"{self.percent / 100:.4f}",
                "-j",
                "DROP",
            )
            for o in _peers(self.node, cluster)
        ]
        self._applied = True
        net.add_chain(self.node, net.chain_name(self.id), [("OUTPUT", "")], rules)

    def heal(self) -> None:
        if self._applied:
            net.remove_chains(self.node, net.chain_name(self.id))
            self._applied = False


class _RootQdisc(_OneNodeNetworkFault):
    """A fault that is the root qdisc of the node's cluster interface."""

    def __init__(self, node: Node):
        super().__init__(node)
        self.device = ""

    def _add(self, qdisc: str) -> None:
        self.device = net.interface(self.node)
        current = net.qdisc(self.node, self.device)
        if "tbf" in current or "netem" in current:
            raise ConfigError(
                f"{self.describe()}: {self.device} on {self.node.name} already has "
                f"a slow-link fault ({current.strip()}); heal it first"
            )
        self._applied = True
        net.sudo(self.node, f"tc qdisc add dev {net.args(self.device)} root {qdisc}")

    def heal(self) -> None:
        if self._applied:
            net.sudo(self.node, f"tc qdisc del dev {net.args(self.device)} root", allow_fail=True)
            self._applied = False

    def undo(self) -> dict[str, list[str]]:
        if not (self._applied and self.device):
            return super().undo()  # the proxy's delay: its chains (the proxy is the test's process)
        return {self.node.name: [net.as_root(f"tc qdisc del dev {net.args(self.device)} root")]}


class Bandwidth(_RootQdisc):
    """``node`` sends to the cluster at most ``rate`` (a tc rate such as ``1mbit``; tc tbf)."""

    kind = "bandwidth"

    def __init__(self, node: Node, rate: str):
        super().__init__(node)
        self.rate = rate

    def describe(self) -> str:
        return f"{self.kind} {self.rate} {self.node.name}"

    def check(self, cluster: Cluster) -> None:
        net.validate_rate(self.rate)
        super().check(cluster)

    def start(self, cluster: Cluster) -> None:
        self._add(net.args("tbf", "rate", self.rate, "burst", "32kbit", "latency", "400ms"))


class Delay(_RootQdisc):
    """Connections with ``node`` gain ``ms`` (± ``jitter_ms``) of round-trip time.

    ``method``: ``netem`` (tc netem on the node's egress: every connection), ``proxy``
    (Toxiproxy in front of the node's ``ports``: connections from the cluster's other nodes to
    those ports; see ``proxy.py``), or ``auto``: netem where the node's kernel has it, else the
    proxy. Asking for netem on a kernel without it is an error before the workload starts.
    """

    kind = "delay"

    def __init__(self, node: Node, ms: float, jitter_ms: float = 0.0, ports: Sequence[int] = (), method: str = "auto"):
        super().__init__(node)
        self.ms, self.jitter_ms, self.ports, self.method = ms, jitter_ms, list(ports), method
        self.used = ""
        self._proxy: Toxiproxy | None = None

    def describe(self) -> str:
        jitter = f"±{self.jitter_ms:g}" if self.jitter_ms else ""
        return f"{self.kind} {self.ms:g}{jitter}ms {self.node.name}"

    def check(self, cluster: Cluster) -> None:
        if self.method not in DELAY_METHODS:
            raise ConfigError(f"{self.describe()}: method {self.method!r} is not one of {', '.join(DELAY_METHODS)}")
        if self.ms <= 0 or self.jitter_ms < 0:
            raise ConfigError(f"{self.describe()}: ms must be positive and jitter_ms not negative")
        bad = [p for p in self.ports if isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 65536]
        if bad:
            raise ConfigError(f"{self.describe()}: port {bad[0]!r} is not a whole number from 1 to 65535")
        super().check(cluster)
        netem = net.has_netem(self.node)
        if self.method == "netem" and not netem:
            raise ConfigError(
                f"{self.describe()}: netem asked for, but the kernel of "
                f"{self.node.name} has no netem qdisc: use method='proxy' or 'auto'"
            )
        self.used = "netem" if self.method == "netem" or (self.method == "auto" and netem) else "proxy"
        if self.used == "proxy":
            if not self.ports:
                raise ConfigError(
                    f"{self.describe()}: without netem the delay goes through a "
                    "proxy in front of the node's services: give ports=[...]"
                )
            require_binary()

    def start(self, cluster: Cluster) -> None:
        if self.used == "netem":
            jitter = f" {self.jitter_ms:g}ms" if self.jitter_ms else ""
            self._add(net.args("netem", "delay", f"{self.ms:g}ms", *jitter.split()))
            return
        self._proxy = Toxiproxy(self.node, posixpath.join(self.node.scratch, f"ducttape-fault-{self.id}"))
        self._applied = True
        self._proxy.start()
        device = net.interface(self.node)
        peers = [o.address for o in _peers(self.node, cluster)]
        redirects, resets = [], []
        for port in self.ports:
            listen = self._proxy.add(f"port{port}", f"{self.node.address}:{port}", self.ms, self.jitter_ms)
            redirects += [
                net.args("-s", a, "-p", "tcp", "--dport", int(port), "-j", "REDIRECT", "--to-ports", int(listen))
                for a in peers
            ]
            # a connection made before the fault has no redirect: reset it once, so its client
            # reconnects through the proxy
            resets += [
                net.args("-s", a, "-p", "tcp", "--dport", int(port), "-j", "REJECT", "--reject-with", "tcp-reset")
                for a in peers
            ]
        chain = net.chain_name(self.id)
        net.add_chain(self.node, chain, [("PREROUTING", net.args("-i", device))], redirects, table="nat")
        net.add_chain(self.node, chain, [("INPUT", net.args("-i", device))], resets)

    def heal(self) -> None:
        if self.used == "netem":
            super().heal()
            return
        if self._applied and self._proxy is not None:
            try:
                net.remove_chains(self.node, net.chain_name(self.id))
            finally:
                self._proxy.stop()
                self._applied = False


class _ProcessFault(Fault):
    def __init__(self, service: "Service", node: Node):
        super().__init__()
        self.service, self.node = service, node

    @property
    def nodes(self) -> list[Node]:
        return [self.node]

    def describe(self) -> str:
        return f"{self.kind} {self.service.service_id} on {self.node.name}"

    def check(self, cluster: Cluster) -> None:
        super().check(cluster)
        if self.node not in self.service.nodes:
            raise ConfigError(
                f"{self.describe()}: {self.service.service_id} does not run on "
                f"{self.node.name} (it runs on "
                f"{', '.join(n.name for n in self.service.nodes) or 'no node'})"
            )


class Pause(_ProcessFault):
    """The service's processes on the node are stopped (SIGSTOP) until healed (SIGCONT)."""

    kind = "pause"

    def __init__(self, service: "Service", node: Node):
        super().__init__(service, node)
        self._pids: list[int] = []

    def start(self, cluster: Cluster) -> None:
        self._pids = self.service.pids(self.node)
        if not self._pids:
            raise ConfigError(f"{self.describe()}: no process of it runs there")
        for pid in self._pids:
            self.node.account.signal(pid, "STOP")
        # the fault starts when they are stopped: a process in uninterruptible sleep (state D,
        # e.g. writing to disk) stops only when that ends
        pids = ",".join(str(int(pid)) for pid in self._pids)
        poll(
            lambda: all(s.startswith("T") for s in self._states(pids)),
            STOP_TIMEOUT,
            lambda: (
                f"{self.describe()}: processes {pids} not stopped {STOP_TIMEOUT:g}s after SIGSTOP "
                f"(states {' '.join(self._states(pids))})"
            ),
        )

    def _states(self, pids: str) -> list[str]:
        return self.node.account.ssh_output(f"ps -o stat= -p {pids}", allow_fail=True, timeout=30).split()

    def heal(self) -> None:
        for pid in self._pids:
            self.node.account.signal(pid, "CONT")
        self._pids = []

    def undo(self) -> dict[str, list[str]]:
        if not self._pids:
            return {}
        # the process groups, as start() stopped them: a child left stopped would keep the
        # service from ending on the SIGTERM that follows
        groups = " ".join(f"-{int(pid)}" for pid in self._pids)
        return {self.node.name: [f"kill -CONT -- {groups} 2>/dev/null; true"]}


class Kill(_ProcessFault):
    """The service's processes on the node get SIGKILL; healing starts it there again
    (``restart=False``: it stays down). A test's teardown does not restart it."""

    kind = "kill"

    def __init__(self, service: "Service", node: Node, restart: bool = True):
        super().__init__(service, node)
        self.restart = restart

    def start(self, cluster: Cluster) -> None:
        self.node.account.kill_process(self.service.pid_file(self.node), sig="KILL", timeout=30)

    def heal(self) -> None:
        if self.restart:
            self.service.bounce(self.node)

    def clean(self) -> None:
        pass


class FaultSet:
    """The faults of one test: starts, heals and records them in ``history``.

    It registers with the test's cluster like a service, so the runner's teardown (which stops
    services in reverse order of creation) calls ``stop()``: every fault still active is cleaned
    up, whether the test passed, failed or timed out. Create it after the services it breaks, so
    they are healed before being stopped.
    """

    def __init__(self, cluster: Cluster, history: History | None = None):
        self.cluster = cluster
        self.history = history or History()
        self.active: list[Fault] = []
        self._lock = threading.Lock()
        self._closed = False
        self._checked_iptables: set[str] = set()
        self.context = test_context.current()
        self.service_id = self.context.register(self) if self.context else "FaultSet"

    def state(self) -> dict:
        """What the runner needs to undo the active faults without this process (when the
        test's process was killed): per node the commands that undo them."""
        undo: dict[str, list[str]] = {}
        with self._lock:
            for fault in reversed(self.active):
                for node, commands in fault.undo().items():
                    undo.setdefault(node, []).extend(commands)
        return {
            "service_id": self.service_id,
            "nodes": [{"node": node, "undo": commands} for node, commands in undo.items()],
        }

    def _report(self) -> None:
        if self.context:
            self.context.started(self)

    @property
    def nodes(self) -> list[Node]:
        """The nodes with an active fault (the runner stops a registered thing that has nodes)."""
        with self._lock:
            return list(dict.fromkeys(n for f in self.active for n in f.nodes))

    def check(self, fault: Fault) -> Fault:
        """Raise ConfigError (one line) if ``fault`` cannot apply here; return it."""
        fault.check(self.cluster)
        if fault.network:
            for node in fault.nodes:
                if node.name not in self._checked_iptables:
                    net.check_iptables(node)
                    self._checked_iptables.add(node.name)
        return fault

    def start(self, fault: Fault) -> Fault:
        """Check and start ``fault``; its start is recorded in the history. Returns it."""
        self.check(fault)
        with self._lock:
            if self._closed:
                raise ConfigError(f"{fault.describe()}: the test's faults were already cleaned up")
            self.active.append(fault)
        log.info("fault %s: %s", fault.id, fault.describe())
        # the fault's interval runs from the first command that applies it (some nodes feel it
        # from then on) to the end of the last that heals it
        # (a start that fails is recorded too, and so is the cleanup that ends it)
        fault.started = time.time()
        self.history.add(
            {
                "type": "fault",
                "id": fault.id,
                "fault": fault.kind,
                "event": "start",
                "targets": fault.targets,
                "detail": fault.describe(),
                "time": fault.started,
            }
        )
        try:
            fault.start(self.cluster)
        except BaseException:
            self._finish(fault, fault.clean, "start failed")
            raise
        self._report()
        return fault

    def heal(self, fault: Fault) -> None:
        """Heal ``fault``; its end is recorded in the history."""
        self._finish(fault, fault.heal, "healed")

    def stop(self) -> None:
        """Clean up every active fault (the runner calls this in teardown); no new faults after."""
        with self._lock:
            self._closed = True
        errors = []
        for fault in reversed(list(self.active)):
            try:
                self._finish(fault, fault.clean, "cleaned up by the runner")
            except Exception as exc:  # noqa: BLE001 - clean the others, then report
                errors.append(exc)
        if errors:
            raise errors[0]

    # the methods a test calls most

    def partition(self, groups: Sequence[Sequence[Node]]) -> Fault:
        """Start a ``Partition``: nodes of different ``groups`` cannot reach each other."""
        return self.start(Partition(groups))

    def isolate(self, node: Node) -> Fault:
        """Start an ``Isolate``: ``node`` cut off from every other node of the test."""
        return self.start(Isolate(node))

    def loss(self, node: Node, percent: float) -> Fault:
        """Start a ``Loss``: ``node`` drops ``percent`` % of what it sends to the other nodes."""
        return self.start(Loss(node, percent))

    def bandwidth(self, node: Node, rate: str) -> Fault:
        """Start a ``Bandwidth`` limit: ``node`` sends at most ``rate`` (``1mbit``, ``500kbit``)."""
        return self.start(Bandwidth(node, rate))

    def delay(
        self, node: Node, ms: float, jitter_ms: float = 0.0, ports: Sequence[int] = (), method: str = "auto"
    ) -> Fault:
        """Start a ``Delay``: connections with ``node`` (on ``ports``, default all) gain ``ms``
        (± ``jitter_ms``) of round trip; ``method`` ``netem``, ``toxiproxy`` or ``auto``."""
        return self.start(Delay(node, ms, jitter_ms, ports, method))

    def pause(self, service: "Service", node: Node) -> Fault:
        """Start a ``Pause``: ``service``'s processes on ``node`` get SIGSTOP (SIGCONT on heal)."""
        return self.start(Pause(service, node))

    def kill(self, service: "Service", node: Node, restart: bool = True) -> Fault:
        """Start a ``Kill``: ``service``'s processes on ``node`` get SIGKILL; healing starts the
        service there again unless ``restart=False``."""
        return self.start(Kill(service, node, restart))

    def _finish(self, fault: Fault, how, why: str) -> None:
        """End ``fault`` with ``how`` (once, even when the nemesis and the runner's teardown
        race) and record its end. If that fails the fault stays active, so the teardown tries
        again; one the teardown could not clean up has no end in the history."""
        with self._lock:
            if fault not in self.active:
                return
            self.active.remove(fault)
        try:
            how()
        except BaseException:
            with self._lock:
                if not self._closed:
                    self.active.append(fault)
            raise
        fault.ended = time.time()
        self._report()
        self.history.add(
            {
                "type": "fault",
                "id": fault.id,
                "fault": fault.kind,
                "event": "end",
                "targets": fault.targets,
                "detail": why,
                "time": fault.ended,
            }
        )
        log.info("fault %s %s: %s", fault.id, why, fault.describe())
