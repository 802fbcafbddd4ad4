"""What the measuring services share: a tool run on each node, its output read while it runs."""

from __future__ import annotations

import shlex
import time
from types import MappingProxyType
from typing import Iterator

from ducttape.cluster import Node
from ducttape.products import jvm
from ducttape.products.templates import properties_file, render
from ducttape.remote import RemoteCommandError
from ducttape.services import BackgroundThreadService, ServiceError

RUN_TIMEOUT = 7200.0
"""Seconds a tool may run (the seed's sizes take tens of minutes through the bridge)."""


class ToolService(BackgroundThreadService):
    """Runs a command-line tool on each of its nodes (worker ``idx`` on node ``idx``).

    The tool's stdout is read line by line while it runs (``tool_lines``); its stderr, where
    the Java tools log, goes to the ``output`` log that lands in the results. ``results`` gets
    one dict per worker, ``stats`` the intermediate dicts (each with its ``worker``).
    """

    logs = MappingProxyType({"output": "tool.log"})
    builds = ("kafka",)

    def __init__(self, cluster, num_nodes: int = 1, timeout: float = RUN_TIMEOUT):
        super().__init__(cluster, num_nodes)
        self.timeout = timeout

    def tool_lines(self, node: Node, cmd: str) -> Iterator[str]:
        """The stdout lines of ``cmd`` on ``node`` as it writes them. A tool that fails raises
        ServiceError quoting its log (``log_excerpt``) and naming the log's copy."""
        log = self.path(node, self.logs["output"])
        self.logger.debug("%s on %s: %s", self.service_id, node.name, cmd)
        try:
            yield from self.capture(node, f"{cmd} 2>> {shlex.quote(log)}", timeout=self.timeout)
        except RemoteCommandError as exc:
            what = f"timed out after {exc.timeout:g}s" if exc.timeout is not None else f"exited {exc.exit_status}"
            said = self.log_excerpt(node) or f"{self.logs['output']} is empty"
            raise ServiceError(
                f"{self.service_id} on {node.name}: the tool {what}; {said}; log: {self.log_copy(node)}"
            ) from None

    def kafka_tool(self, node: Node, role: str, *args: object, heap: str = jvm.TOOL_HEAP) -> str:
        """Command running Kafka tool ``role`` on ``node``, logging WARN and up to stderr."""
        return jvm.command(node, "kafka", role, *args, java_opts=jvm.opts(heap, self.log4j_option(node)))

    def log4j_option(self, node: Node) -> str:
        """The JVM option pointing log4j2 at a config on ``node`` that logs WARN and up to stderr."""
        log4j = self.path(node, "tools-log4j2.properties")
        node.account.create_file(log4j, render("log4j2.properties.j2", target="SYSTEM_ERR", level="WARN", loggers={}))
        return f"-Dlog4j2.configurationFile={log4j}"

    def client_config(self, node: Node, name: str, kafka, settings: dict) -> str | None:
        """Path of client config file ``name`` on ``node`` (its owner alone may read it) with
        the client settings ``kafka`` needs (its SCRAM login) and ``settings``, which win;
        None when both are empty."""
        merged = {**kafka.client_settings(), **settings}
        if not merged:
            return None
        path = self.path(node, name)
        node.account.create_file(path, properties_file(merged), private=True)
        return path

    def add_stats(self, idx: int, started: float, stats: dict) -> None:
        with self.stats_lock:
            self.stats.append({"worker": idx, "time_s": round(time.monotonic() - started, 3), **stats})


def properties(settings: dict) -> list[str]:
    """``key=value`` words for a tool's ``--producer-props`` and the like."""
    return [f"{k}={v}" for k, v in settings.items()]
