"""ducktape.services.service: ducktape's ``Service`` on a ducttape test.

As in ducktape, a service takes its nodes from the test's cluster when it is made and registers
with the test's context; ``start`` cleans each node and calls ``start_node`` on one node after
another; ``stop``, ``clean`` and ``free`` are separate steps. The runner tears it down after the
test as ducttape's TestContext does with its own services (newest first): stop, collect the
declared ``logs`` into the test's results, clean, free.
"""

from __future__ import annotations

import os
import time

from ducttape.compat.ducktape.errors import TimeoutError  # noqa: A004 - ducktape's TimeoutError
from ducttape.compat.ducktape.template import TemplateRenderer
from ducttape.compat.ducktape.utils.util import wait_until


class Service(TemplateRenderer):
    """``num_nodes`` nodes of ``context.cluster`` running one kind of process (ducktape's
    per-node hooks: ``start_node``, ``stop_node``, ``clean_node``, ``wait_node``, ``pids``).

    ``logs`` maps a name to ``{"path": ..., "collect_default": bool}``; after the test the runner
    collects them as the log policy says (by default ducktape's rule: after a pass the logs
    with ``collect_default`` or marked by the test's ``mark_for_collect``, after a failure all).
    A ``cluster_spec`` with node types takes nodes of those types.
    """

    logs: dict = {}

    def __init__(self, context, num_nodes: int | None = None, cluster_spec=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = context
        self.cluster_spec = cluster_spec
        self.num_nodes = cluster_spec.size() if cluster_spec is not None else (num_nodes or 0)
        self.nodes: list = []
        self.service_id = context.services.append(self) if hasattr(context, "services") else type(self).__name__
        self.allocate_nodes()

    def __repr__(self) -> str:
        return f"<{self.who_am_i()}: num_nodes: {self.num_nodes}, nodes: {[n.account.hostname for n in self.nodes]}>"

    @property
    def logger(self):
        return self.context.logger

    @property
    def cluster(self):
        return self.context.cluster

    @property
    def allocated(self) -> bool:
        return len(self.nodes) > 0

    @property
    def local_scratch_dir(self) -> str:
        """A folder on the driver for this service's files."""
        path = os.path.join(self.context.local_scratch_dir, self.service_id)
        os.makedirs(path, exist_ok=True)
        return path

    def who_am_i(self, node=None) -> str:
        if node is None:
            return self.service_id
        return f"{self.service_id} node {self.idx(node)} on {node.account.hostname}"

    def allocate_nodes(self) -> None:
        """Take ``num_nodes`` nodes from the test's cluster."""
        if self.allocated:
            raise RuntimeError(f"{self.who_am_i()} already has nodes")
        if self.cluster_spec is not None and self.cluster_spec.node_types():
            self.nodes = self.cluster.alloc(self.cluster_spec)
        else:
            self.nodes = self.cluster.request(self.num_nodes) if self.num_nodes else []
        if hasattr(self.context, "services"):
            self.context.services.allocated(self)
        self.logger.debug("%s got nodes %s", self.who_am_i(), [n.name for n in self.nodes])

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, **kwargs) -> None:
        """Stop and clean each node (errors ignored, as ducktape does), then start each node."""
        self.start_time = time.time()
        clean = kwargs.pop("clean", True)
        self.logger.info("%s: starting service", self.who_am_i())
        if clean:
            for node in self.nodes:
                for step in (self.stop_node, self.clean_node):
                    try:
                        step(node)
                    except Exception as exc:  # noqa: BLE001 - ducktape's precaution before a start
                        self.logger.debug("%s before start: %s failed: %s", self.who_am_i(node), step.__name__, exc)
        for node in self.nodes:
            self.logger.debug("%s: starting node", self.who_am_i(node))
            self.start_node(node, **kwargs)

    def start_node(self, node, **kwargs) -> None:
        raise NotImplementedError(f"{self.who_am_i()}: subclasses must implement start_node")

    def wait(self, timeout_sec: float = 600) -> None:
        """Wait up to ``timeout_sec`` in all for every node's work to end (``wait_node``)."""
        deadline = time.monotonic() + timeout_sec
        unfinished = []
        for node in self.nodes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.wait_node(node, timeout_sec=remaining):
                unfinished.append(node)
        if unfinished:
            raise TimeoutError(
                f"Timed out waiting {timeout_sec} seconds for service nodes to "
                f"finish. These nodes are still alive: {[str(n.account) for n in unfinished]}"
            )

    def wait_node(self, node, timeout_sec: float | None = None) -> bool:
        """Wait until the node's processes (``pids``) are gone; whether they are."""
        for pid in self.pids(node):
            try:
                wait_until(
                    lambda pid=pid: not node.account.alive(pid),
                    timeout_sec=timeout_sec or 600,
                    err_msg=f"{self.who_am_i(node)}: pid {pid} still alive",
                )
            except TimeoutError:
                return False
        return not self.pids(node)

    def stop(self, **kwargs) -> None:
        self.logger.info("%s: stopping service", self.who_am_i())
        for node in self.nodes:
            self.stop_node(node, **kwargs)

    def stop_node(self, node, **kwargs) -> None:
        raise NotImplementedError(f"{self.who_am_i()}: subclasses must implement stop_node")

    def clean(self, **kwargs) -> None:
        for node in self.nodes:
            self.clean_node(node, **kwargs)

    def clean_node(self, node, **kwargs) -> None:
        self.logger.warning("%s: clean_node has not been overridden", self.who_am_i())

    def free(self) -> None:
        """Give the nodes back to the test's cluster."""
        nodes, self.nodes = self.nodes, []
        if nodes:
            self.cluster.free(nodes)
        if hasattr(self.context, "services"):
            self.context.services.freed(self)

    def run(self) -> None:
        self.start()
        self.wait()
        self.stop()

    def pids(self, node) -> list:
        return []

    def alive(self, node) -> bool:
        return len(self.pids(node)) > 0

    def get_node(self, idx: int):
        return self.nodes[idx - 1]

    def idx(self, node) -> int:
        """1-based index of ``node`` in this service, -1 if it is not one of its nodes."""
        for i, n in enumerate(self.nodes, 1):
            if n is node:
                return i
        return -1

    @staticmethod
    def run_parallel(*services) -> None:
        for svc in services:
            svc.start()
        for svc in services:
            svc.wait()
        for svc in services:
            svc.stop()
