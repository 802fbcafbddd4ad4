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


def git_mirrors() -> str | None:
    """The folder of bare git mirrors that stands in for https://github.com/ here, or None.

    The one git is already told to use (``url.file://DIR/.insteadOf https://github.com/``, e.g.
    from GIT_CONFIG_* variables), else ``<repository>/../shared/git`` when that folder exists.
    """
    listed = subprocess.run(["git", "config", "--get-regexp", r"^url\..*\.insteadof$"],
                            capture_output=True, text=True, timeout=30).stdout
    for line in listed.splitlines():
        key, _, value = line.partition(" ")
        url = key[len("url."):-len(".insteadof")]
        if value.strip() == "https://github.com/" and url.startswith("file://"):
            return url[len("file://"):].rstrip("/")
    beside = os.path.join(os.path.dirname(REPO), "shared", "git")
    return beside if os.path.isdir(beside) else None


def git_mirror_env(mirrors: str) -> dict:
    """GIT_CONFIG_* variables that make git fetch https://github.com/OWNER/NAME from ``mirrors``."""
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.file://{mirrors}/.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/"}
