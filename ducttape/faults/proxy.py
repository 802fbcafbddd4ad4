"""Added latency without netem: Shopify's Toxiproxy (v2.5.0) in front of a node's service ports.

Why Toxiproxy: it is the established latency-injecting TCP proxy (a single static Go binary with
an HTTP API, served by the Go module proxy), so nothing else has to be installed on the nodes.
``invoke faults.toxiproxy`` builds it into ``build/toxiproxy/bin/``; a delay fault copies it to
the node it slows down.

How it sits between the clients and the service: the proxy runs on the node itself, and iptables
redirects (``nat PREROUTING ... REDIRECT``) new connections from the cluster's other nodes to the
service's port into the proxy's listener; the proxy forwards them to the service with a latency
toxic on the way back (so a request/response round trip gains the delay, as with netem on the
node's egress). Connections opened before the fault are reset once, so every client reconnects
through the proxy; healing removes the rules and stops the proxy, and clients reconnect directly.
"""

from __future__ import annotations

import json
import os
import posixpath
import shlex
import subprocess

from ducttape.build.layout import build_dir
from ducttape.cluster import Node
from ducttape.command_line import command
from ducttape.errors import ConfigError
from ducttape.remote.account import poll

VERSION = "v2.5.0"
MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server"
BINARY = "toxiproxy-server"
API_PORT = 8474
START_TIMEOUT = 30.0
q = shlex.quote


def local_binary() -> str:
    """Where ``invoke faults.toxiproxy`` puts the proxy on this machine."""
    return str(build_dir() / "toxiproxy" / "bin" / BINARY)


def install(echo=print) -> str:
    """Build Toxiproxy ``VERSION`` with ``go install`` (a static binary) into ``local_binary()``."""
    target = local_binary()
    bin_dir = os.path.dirname(target)
    os.makedirs(bin_dir, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": bin_dir}
    echo(f"toxiproxy: go install {MODULE}@{VERSION}")
    try:
        result = subprocess.run(
            ["go", "install", f"{MODULE}@{VERSION}"], env=env, capture_output=True, text=True, timeout=900
        )
    except FileNotFoundError:
        raise ConfigError("toxiproxy: the `go` command is missing: install Go (install.sh does)") from None
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise ConfigError(f"toxiproxy: go install {MODULE}@{VERSION} failed: {tail}")
    os.replace(os.path.join(bin_dir, "server"), target)
    echo(f"toxiproxy: {target}")
    return target


def require_binary() -> str:
    """The local proxy binary; ConfigError (one line) if it was not built."""
    path = local_binary()
    if not os.path.isfile(path):
        raise ConfigError(
            f"delay through a proxy needs {path}, which is missing: run "
            f"`{command()} faults.toxiproxy` (this kernel has no netem)"
        )
    return path


class Toxiproxy:
    """One toxiproxy-server on ``node``, under ``workdir``, its API on the node's loopback."""

    def __init__(self, node: Node, workdir: str):
        self.node = node
        self.workdir = workdir
        self.pid_file = posixpath.join(workdir, "toxiproxy.pid")
        self.log_file = posixpath.join(workdir, "toxiproxy.log")

    def start(self) -> None:
        binary = posixpath.join(self.workdir, BINARY)
        self.node.account.copy_to(require_binary(), binary)
        self.node.account.ssh(f"chmod +x {q(binary)}", timeout=30)
        self.node.account.spawn(f"{q(binary)} -host 127.0.0.1 -port {API_PORT}", self.pid_file, self.log_file)
        poll(
            lambda: self._api("GET", "/version", allow_fail=True) is not None,
            START_TIMEOUT,
            lambda: f"toxiproxy on {self.node.name} did not answer within {START_TIMEOUT:g}s",
            guard=self._guard,
        )

    def add(self, name: str, upstream: str, latency_ms: float, jitter_ms: float) -> int:
        """A proxy ``name`` to ``upstream`` (host:port) with ``latency_ms`` added to what flows
        back to the client; return the port it listens on (all addresses)."""
        created = self._api(
            "POST", "/proxies", {"name": name, "listen": "0.0.0.0:0", "upstream": upstream, "enabled": True}
        )
        self._api(
            "POST",
            f"/proxies/{name}/toxics",
            {
                "name": "latency",
                "type": "latency",
                "stream": "downstream",
                "toxicity": 1.0,
                "attributes": {"latency": int(round(latency_ms)), "jitter": int(round(jitter_ms))},
            },
        )
        return int(created["listen"].rsplit(":", 1)[1])

    def stop(self) -> None:
        """Stop the proxy (every connection through it closes) and remove its files."""
        self.node.account.kill_process(self.pid_file, sig="KILL", timeout=10)
        self.node.account.remove(self.workdir)

    def _guard(self) -> None:
        if not self.node.account.pids(self.pid_file):
            log = self.node.account.ssh_output(f"tail -n 5 {q(self.log_file)}", allow_fail=True)
            raise ConfigError(f"toxiproxy on {self.node.name} exited: {' | '.join(log.splitlines())}")

    def _api(self, method: str, path: str, body: dict | None = None, allow_fail: bool = False):
        data = f" -H 'Content-Type: application/json' -d {q(json.dumps(body))}" if body else ""
        result = self.node.account.run(
            f"curl -sS --fail-with-body --max-time 10 -X {q(method)}{data} {q(f'http://127.0.0.1:{API_PORT}{path}')}",
            allow_fail=True,
            timeout=30,
        )
        if result.exited != 0:
            if allow_fail:
                return None
            raise ConfigError(
                f"toxiproxy on {self.node.name}: {method} {path} failed: {(result.stdout + result.stderr).strip()}"
            )
        return json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.stdout
