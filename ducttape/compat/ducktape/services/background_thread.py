"""ducktape.services.background_thread: ``BackgroundThreadService``, a service whose per-node work
is ``_worker(idx, node)`` in a thread on the driver."""

from __future__ import annotations

import contextvars
import threading
import traceback

from ducttape.compat.ducktape.services.service import Service


class BackgroundThreadService(Service):
    """``start_node`` runs ``_worker(idx, node)`` in a daemon thread; ``wait`` joins the threads
    and raises the errors of failed workers; ``stop`` stops the nodes, then raises them too."""

    def __init__(self, context, num_nodes=None, cluster_spec=None, *args, **kwargs) -> None:
        super().__init__(context, num_nodes, cluster_spec, *args, **kwargs)
        self.worker_threads: dict[str, threading.Thread] = {}
        self.worker_errors: dict[str, BaseException] = {}
        self.lock = threading.RLock()

    def _worker(self, idx, node) -> None:
        raise NotImplementedError(f"{self.who_am_i()}: subclasses must implement _worker")

    def _protected_worker(self, idx, node) -> None:
        try:
            self._worker(idx, node)
        except BaseException as exc:  # noqa: BLE001 - handed to wait()/stop()
            with self.lock:
                self.logger.info("%s worker %d failed:\n%s", self.who_am_i(), idx, traceback.format_exc(limit=16))
                self.worker_errors[threading.current_thread().name] = exc

    def start_node(self, node, **kwargs) -> None:
        idx = self.idx(node)
        self.logger.info("Running %s node %d on %s", type(self).__name__, idx, node.account.hostname)
        worker = threading.Thread(
            name=f"{type(self).__name__}-worker-{idx}",
            daemon=True,
            target=contextvars.copy_context().run,
            args=(self._protected_worker, idx, node),
        )
        self.worker_threads[self._key(node)] = worker
        worker.start()

    def wait(self, timeout_sec: float = 600) -> None:
        super().wait(timeout_sec)
        self._propagate_exceptions()

    def wait_node(self, node, timeout_sec: float | None = 600) -> bool:
        worker = self.worker_threads.get(self._key(node))
        if worker is None:
            return True
        worker.join(timeout_sec)
        return not worker.is_alive()

    def stop(self, **kwargs) -> None:
        super().stop(**kwargs)
        self._propagate_exceptions()

    def stop_node(self, node, **kwargs) -> None:
        """Nothing to stop by default (the worker ends with its command)."""

    def clean_node(self, node, **kwargs) -> None:
        """Nothing to clean by default."""

    def _propagate_exceptions(self) -> None:
        with self.lock:
            if self.worker_errors:
                raise Exception(str(self.worker_errors))

    @staticmethod
    def _key(node) -> str:
        return f"{node.name}@{id(node)}"
