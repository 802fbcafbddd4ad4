"""Service: a process (or several) run on some nodes of a cluster.

A service author writes the per-node hooks ``start_node``, ``stop_node``, ``clean_node`` and
``wait_node``; the base class allocates nodes and runs the hooks on all of them in parallel.
Services that start one daemon per node get all four hooks for free from ``spawn``.
"""

from __future__ import annotations

import collections
import logging
import os
import posixpath
import re
import shlex
import threading
import time
import weakref
from types import MappingProxyType
from typing import Callable, Mapping, TypeVar

from ducttape.cluster import Cluster, Node
from ducttape.errors import TimeoutError  # noqa: A004 - ducttape's own
from ducttape.parallel import parallel_map
from ducttape.remote.account import LogMonitor, check_http_target, clip, poll
from ducttape.remote.errors import ProcessExitedError
from ducttape.runner import context as test_context

DEFAULT_WAIT_TIMEOUT = 600.0
"""Seconds ``Service.wait``, ``Service.run`` and ``run_parallel`` wait for the work to finish."""
STOP_TIMEOUT = 30.0
"""Seconds a process gets to end on SIGTERM in ``stop_node`` before it gets SIGKILL."""
TAIL_LINES = 12
"""Lines of ``log_tail`` by default."""
CAUSE_LINES, LAST_LINES = 3, 3
"""What the message of a failed start quotes of the service's log: the first CAUSE_LINES lines
that look like a cause (``CAUSE``), then the last LAST_LINES lines, each cut to 200 characters."""
CAUSE = (
    r"error|exception|fatal|panic|not defined|not found|no such|denied|refused|invalid|"
    r"unknown|cannot|can't|could not|couldn't|unable|failed|in use|not allowed|not permitted"
)
"""Words of a log line that says why a process gave up (an extended regex, lower case); lines
after a line that starts with ``usage:`` do not count."""
_STACK_FRAME = re.compile(r"^\s+at |^\s*\.\.\. \d+ (more|common frames omitted)")
T = TypeVar("T")


class ServiceError(ProcessExitedError):
    """A service's process exited while it should have been running (starting, most often).

    The message quotes the lines of the service's log that say why (``Service.log_excerpt``)
    and names the copy of the log that the runner keeps in the test's results.
    """


class Service:
    """``num_nodes`` nodes running one kind of process.

    Lifecycle: ``start()`` takes nodes from the cluster, cleans them and calls ``start_node`` on
    all of them in parallel; ``wait()`` waits for the work to finish; ``stop()`` calls
    ``stop_node``, collects the declared ``logs`` into the test's results, calls ``clean_node``
    and gives the nodes back. ``run()`` is start, wait, stop. A service made while a test runs
    registers with its TestContext, which stops it after the test if the test did not.

    ``logs`` maps a log's name to its path relative to ``workdir(node)``; the runner copies these
    files into the test's results. ``results`` holds one dict per worker (node), ``stats`` the
    intermediate dicts a service records while it runs.
    """

    logs: Mapping[str, str] = MappingProxyType({"output": "service.log"})
    collect_default: frozenset[str] | None = None
    """The names of the ``logs`` collected after a passed test under the default log policy
    (``--logs declared``); None: all of them. After a failure every log is collected."""
    builds: tuple[str, ...] = ()
    """The build projects (names in projects.yaml) the service runs from; the reports of a
    session name the builds that its tests' services used."""

    def __init__(self, cluster: Cluster, num_nodes: int = 1):
        self.cluster = cluster
        self.num_nodes = num_nodes
        self.nodes: list[Node] = []
        self.context = test_context.current()
        self.service_id = self.context.register(self) if self.context else _unregistered_id(self)
        self.logger = logging.getLogger(f"ducttape.service.{type(self).__name__}")
        self.results: list[dict] = [{} for _ in range(num_nodes)]
        self.stats: list[dict] = []
        self.stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{self.service_id} on {[n.name for n in self.nodes]}>"

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Allocate nodes (if not yet), clean them, and start the service on each in parallel."""
        if not self.nodes:
            self.nodes = self.cluster.request(self.num_nodes)
            if self.context:
                self.context.use_builds(*self.builds)
                self.context.started(self)
        self.logger.info("starting %s on %s", self.service_id, ", ".join(n.name for n in self.nodes))
        parallel_map(self.clean_node, self.nodes)
        parallel_map(self._start_node_logged, self.nodes)

    def wait(self, timeout: float = DEFAULT_WAIT_TIMEOUT) -> None:
        """Wait until every node's work is done (``wait_node``); TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        parallel_map(lambda node: self.wait_node(node, max(0.0, deadline - time.monotonic())), self.nodes)

    def stop(self) -> None:
        """Stop every node, collect logs, clean up and free the nodes. Idempotent."""
        if not self.nodes:
            return
        self.logger.info("stopping %s", self.service_id)
        try:
            parallel_map(self.stop_node, self.nodes)
        finally:
            try:
                if self.context:
                    self.context.collect_logs(self)
            finally:
                try:
                    parallel_map(self.clean_node, self.nodes)
                finally:
                    self.cluster.free(self.nodes)
                    self.nodes = []
                    if self.context:
                        self.context.stopped(self)

    def run(self, timeout: float = DEFAULT_WAIT_TIMEOUT) -> None:
        """Start, wait for the work to finish, stop."""
        self.start()
        try:
            self.wait(timeout)
        finally:
            self.stop()

    def bounce(self, node: Node | None = None, clean_shutdown: bool = True) -> None:
        """Restart the service on ``node`` (default: every node, one after another)."""
        for n in [node] if node else list(self.nodes):
            self.logger.info(
                "bouncing %s on %s (%s)", self.service_id, n.name, "clean" if clean_shutdown else "kill -9"
            )
            self.stop_node(n, clean_shutdown=clean_shutdown)
            self._start_node_logged(n)

    # -- per-node hooks (defaults serve a service that spawns one process per node) ------------

    def start_node(self, node: Node) -> None:
        """Start the service on one node; may block until it is up, never for its lifetime."""
        raise NotImplementedError(f"{type(self).__name__} must define start_node(node)")

    def stop_node(self, node: Node, clean_shutdown: bool = True) -> None:
        """Stop the service's process on one node (SIGTERM, or SIGKILL when not clean)."""
        node.account.kill_process(self.pid_file(node), sig="TERM" if clean_shutdown else "KILL", timeout=STOP_TIMEOUT)

    def clean_node(self, node: Node) -> None:
        """Remove what the service left on one node: leftover process, then its files."""
        node.account.kill_process(self.pid_file(node), sig="KILL", timeout=STOP_TIMEOUT)
        node.account.remove(self.workdir(node))

    def wait_node(self, node: Node, timeout: float) -> None:
        """Wait until the service's process on ``node`` has exited."""
        poll(
            lambda: not self.alive(node),
            timeout,
            lambda: f"{self.service_id} on {node.name} still running after {timeout:.3g}s",
        )

    # -- helpers for service authors -------------------------------------------------------------

    def idx(self, node: Node) -> int:
        """1-based index of ``node`` in this service."""
        return self.nodes.index(node) + 1

    def workdir(self, node: Node) -> str:
        """This service's own directory on ``node`` (under the node's scratch root)."""
        return posixpath.join(node.scratch, self.service_id)

    def path(self, node: Node, *parts: str) -> str:
        """A path in this service's folder on ``node``: ``path(node, "service.log")``."""
        return posixpath.join(self.workdir(node), *parts)

    def pid_file(self, node: Node) -> str:
        """Where ``spawn`` records the pid of the service's process on ``node``."""
        return self.path(node, "service.pid")

    def collects_by_default(self, log_name: str) -> bool:
        """Whether log ``log_name`` is collected after a pass under the default log policy."""
        return self.collect_default is None or log_name in self.collect_default

    def log_files(self, node: Node) -> dict[str, str]:
        """Absolute paths of the declared logs on ``node``."""
        return {name: self.path(node, rel) for name, rel in self.logs.items()}

    def state(self) -> dict:
        """What the runner needs to stop, collect and clean this service without it (when the
        test's process was killed): per node its pid file, declared logs and workdir."""
        return {
            "service_id": self.service_id,
            "nodes": [
                {"node": n.name, "pid_file": self.pid_file(n), "logs": self.log_files(n), "workdir": self.workdir(n)}
                for n in self.nodes
            ],
        }

    def spawn(self, node: Node, cmd: str, cwd: str | None = None, env: Mapping[str, str] | None = None) -> int:
        """Start ``cmd`` on ``node`` in the background; return its pid at once.

        Its stdout and stderr go to the ``output`` log, ``self.path(node, "service.log")`` (the
        runner collects it into the test's results); its pid to ``self.pid_file(node)``, which
        ``stop_node``, ``clean_node``, ``alive`` and ``bounce`` use; it runs in the service's
        folder ``self.workdir(node)`` unless ``cwd`` says otherwise."""
        return node.account.spawn(
            cmd, self.pid_file(node), self.path(node, self.logs["output"]), cwd=cwd or self.workdir(node), env=env
        )

    def pids(self, node: Node) -> list[int]:
        """The pid of the service's process on ``node`` while it (or its session) runs, else []."""
        return node.account.pids(self.pid_file(node))

    def alive(self, node: Node) -> bool:
        """Whether the service's process on ``node`` runs."""
        return bool(self.pids(node))

    # -- waiting for a spawned process, failing fast if it dies -------------------------------

    def wait_for_log(self, node: Node, monitor: LogMonitor, regex: str, timeout: float = 60.0) -> str:
        """Wait for a line matching ``regex`` in the log that ``monitor`` watches (make it before
        spawning), while the service's process on ``node`` runs; return the line.

        Raises ServiceError as soon as the process has exited, TimeoutError after ``timeout``
        (naming the TCP ports the process listens on); both messages quote the lines of the
        service's log that say why (``log_excerpt``) and name its copy in the results.
        """
        return self._watch(node, lambda: monitor.wait_until(regex, timeout, owner=self.pid_file(node)))

    def wait_for_http(
        self, node: Node, port: int, path: str = "/", timeout: float = 60.0, status: int | None = None
    ) -> int:
        """Wait for ``http://node.address:port/path`` to answer (``status`` if given) from a
        socket that the service's own process on ``node`` listens on (not another process that
        holds the port), as ``wait_for_log`` waits for a line; return the status."""
        form = 'self.wait_for_http(node, port, path="/", timeout=60.0) in a Service'
        if not isinstance(node, Node):
            raise TypeError(f"wait_for_http: the first argument is the node the service runs on, not {node!r}: {form}")
        check_http_target(form, port, path)
        return self._watch(
            node,
            lambda: node.account.wait_for_http(
                port, path, timeout, address=node.address, status=status, owner=self.pid_file(node)
            ),
        )

    def wait_for(self, node: Node, check: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
        """Poll ``check()`` until true, as ``wait_for_log`` waits for a line; ``describe()``
        says what did not happen."""
        self._watch(
            node,
            lambda: node.account.poll_owned(
                check, timeout, describe, owner=self.pid_file(node), doing="waiting for it to be ready"
            ),
        )

    def log_tail(self, node: Node, lines: int = TAIL_LINES, log: str = "output") -> str:
        """The last ``lines`` lines of declared log ``log`` on ``node``, Java stack frames left
        out, joined with " | " ('' if there is no such file)."""
        path = self.path(node, self.logs[log])
        text = node.account.ssh_output(
            f"tail -n {lines * 20} {shlex.quote(path)} 2>/dev/null", allow_fail=True, timeout=30
        )
        kept = [clip(line.rstrip()) for line in text.splitlines() if line.strip() and not _STACK_FRAME.match(line)]
        return " | ".join(kept[-lines:])

    def log_excerpt(self, node: Node, log: str = "output") -> str:
        """What declared log ``log`` on ``node`` says about why the process gave up: ``cause:``
        its first lines that look like one (``CAUSE``, before any usage text), then ``last
        lines:`` (``log_tail``),
        each part joined with " | " and the parts with "; " ('' if the log is empty)."""
        causes = self.log_causes(node, log)
        last = [
            line for line in self.log_tail(node, LAST_LINES, log).split(" | ") if line and line.strip() not in causes
        ]
        parts = ([f"cause: {' | '.join(causes)}"] if causes else []) + (
            [f"last lines: {' | '.join(last)}"] if last else []
        )
        return "; ".join(parts)

    def log_causes(self, node: Node, log: str = "output") -> list[str]:
        """The first CAUSE_LINES lines of declared log ``log`` on ``node`` that look like why
        the process gave up (``CAUSE``; usage text after them does not count)."""
        path = self.path(node, self.logs[log])
        # a program's usage text, printed after what it did not understand, explains no cause
        program = (
            f"tolower($0) ~ /^[ \\t]*usage:/ {{ exit }} tolower($0) ~ cause {{ print; if (++n == {CAUSE_LINES}) exit }}"
        )
        text = node.account.ssh_output(
            f"awk -v cause={shlex.quote(CAUSE)} {shlex.quote(program)} {shlex.quote(path)} 2>/dev/null",
            allow_fail=True,
            timeout=30,
        )
        return [clip(line.strip()) for line in text.splitlines() if line.strip() and not _STACK_FRAME.match(line)]

    def log_copy(self, node: Node, log: str = "output") -> str:
        """Where declared log ``log`` of ``node`` is kept once the service stops: its copy in
        the test's results (relative to the current folder when inside it), or its path on
        the node when the service runs outside a test."""
        path = self.path(node, self.logs[log])
        if self.context is None or self.context.results_dir is None:
            return f"{node.name}:{path}"
        copy = os.path.join(
            test_context.log_folder(self.context.results_dir, self.service_id, node.name), posixpath.basename(path)
        )
        rel = os.path.relpath(copy)
        return copy if rel.startswith("..") else rel

    def _watch(self, node: Node, wait: Callable[[], T]) -> T:
        """Run ``wait`` (which fails with ProcessExitedError once the process on ``node`` has
        exited); both that and a timeout get the log's excerpt and the name of its copy."""

        def why() -> str:
            excerpt = self.log_excerpt(node)
            said = f"; {excerpt}" if excerpt else f"; {self.logs['output']} is empty"
            return f"{said}; log: {self.log_copy(node)}"

        try:
            return wait()
        except ServiceError:
            raise
        except ProcessExitedError as exc:
            raise ServiceError(f"{self.service_id} on {node.name} exited while {exc.doing}{why()}") from None
        except TimeoutError as exc:
            raise TimeoutError(f"{self.service_id}: {exc}{why()}") from None

    def _start_node_logged(self, node: Node) -> None:
        node.account.mkdirs(self.workdir(node))
        self.start_node(node)
        self.logger.debug("%s started on %s", self.service_id, node.name)


_made_outside_tests: "weakref.WeakKeyDictionary[Cluster, collections.Counter]" = weakref.WeakKeyDictionary()


def _unregistered_id(service: Service) -> str:
    """``<Class>-<n>`` for a service made outside any test (numbered per cluster)."""
    made = _made_outside_tests.setdefault(service.cluster, collections.Counter())
    made[type(service)] += 1
    return f"{type(service).__name__}-{made[type(service)]}"


def run_parallel(*services: Service, timeout: float = DEFAULT_WAIT_TIMEOUT) -> None:
    """Start all ``services``, wait for all, then stop all (each ``run()`` at the same time)."""
    parallel_map(lambda s: s.start(), services)
    try:
        deadline = time.monotonic() + timeout
        parallel_map(lambda s: s.wait(max(0.0, deadline - time.monotonic())), services)
    finally:
        parallel_map(lambda s: s.stop(), services)
