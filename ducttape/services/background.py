"""BackgroundThreadService: a service whose per-node work is a thread on the driver."""

from __future__ import annotations

import contextvars
import shlex
import threading
from typing import Iterator

from ducttape.cluster import Node
from ducttape.errors import TimeoutError  # noqa: A004 - ducttape's own
from ducttape.services.service import Service


class BackgroundThreadService(Service):
    """Runs ``_worker(idx, node)`` in a thread per node, typically reading a remote command's
    output with ``capture()`` and filling ``results[idx - 1]`` / ``stats``.

    ``start_node`` returns as soon as the thread runs. An exception in a worker is kept and
    re-raised by ``wait()`` or ``stop()``, so a broken worker fails the test.
    """

    def __init__(self, cluster, num_nodes: int = 1):
        super().__init__(cluster, num_nodes)
        self._threads: dict[Node, threading.Thread] = {}
        self._errors: dict[Node, BaseException] = {}

    def _worker(self, idx: int, node: Node) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _worker(idx, node)")

    def capture(self, node: Node, cmd: str, timeout: float | None = None) -> Iterator[str]:
        """Run ``cmd`` on ``node`` under this service's pid file and yield its output lines, so
        ``stop_node`` can signal it like a spawned process."""
        wrapped = (
            f"mkdir -p {shlex.quote(self.workdir(node))} && echo $$ > {shlex.quote(self.pid_file(node))} && exec {cmd}"
        )
        # -w: where the login shell leads its own process group (sshd sessions), setsid forks
        # and would exit 0 at once; waiting passes the command's exit status on.
        return node.account.ssh_capture(f"setsid -w sh -c {shlex.quote(wrapped)}", timeout=timeout)

    def start_node(self, node: Node) -> None:
        idx = self.idx(node)

        def work() -> None:
            try:
                self._worker(idx, node)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
                self.logger.debug("worker %d on %s failed: %r", idx, node.name, exc)
                self._errors[node] = exc

        thread = threading.Thread(
            target=contextvars.copy_context().run, args=(work,), name=f"{self.service_id}-worker{idx}", daemon=True
        )
        self._threads[node] = thread
        thread.start()

    def wait_node(self, node: Node, timeout: float) -> None:
        thread = self._threads.get(node)
        if thread:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError(f"{self.service_id} worker on {node.name} still running after {timeout:g}s")
        self._raise_worker_error(node)

    def stop_node(self, node: Node, clean_shutdown: bool = True) -> None:
        thread = self._threads.pop(node, None)
        interrupted = bool(thread and thread.is_alive())
        super().stop_node(node, clean_shutdown)
        if thread:
            thread.join(60)
        if interrupted:  # the worker failed because we stopped its command: not an error
            self._errors.pop(node, None)
        self._raise_worker_error(node)

    def check(self) -> None:
        """Raise the error of a worker that has failed so far, if any (each error is raised
        once). Pass it as the ``guard`` of a wait on the service's progress, so the wait ends
        when a worker dies instead of running into its timeout."""
        for node in list(self._errors):
            self._raise_worker_error(node)

    def _raise_worker_error(self, node: Node) -> None:
        exc = self._errors.pop(node, None)
        if exc is not None:
            raise exc
