"""Helpers for the framework's own tests (imported by test modules and conftest)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def write_cluster_file(path, sshd, scratch_root, n: int = 3) -> str:
    """A json cluster file of ``n`` nodes, all on the test sshd, each with its own scratch dir."""
    nodes = [{"name": f"host{i}", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
              "key_file": sshd["key_file"], "address": f"127.0.2.{i}",
              "scratch": os.path.join(str(scratch_root), f"host{i}")} for i in range(1, n + 1)]
    with open(path, "w") as f:
        json.dump({"nodes": nodes}, f)
    return str(path)


def run_cli(*args: str, cwd: str = REPO, env: dict | None = None, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m invoke ARGS`` in the repository as a user would; capture output."""
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})}, **kwargs)


def ssh_node(node: dict, command: str) -> str:
    """Run ``command`` on ``node`` (a cluster-file node) with the OpenSSH client; return stdout."""
    args = ["ssh", "-p", str(node["port"]), "-i", node["key_file"], "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
            f"{node['user']}@{node['hostname']}", command]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"ssh {node['name']} {command!r}: {result.stderr}"
    return result.stdout


def copy_repo(root, names) -> None:
    """Copy the repository's files and folders ``names`` into ``root`` (no __pycache__)."""
    import shutil
    from pathlib import Path

    for name in names:
        source, target = Path(REPO) / name, Path(root) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
