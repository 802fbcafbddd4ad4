"""Helpers for the framework's own tests (imported by test modules and conftest)."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


GITHUB = "https://github.com/"


def git_mirror_env(repo: str = REPO) -> dict[str, str]:
    """git configuration, as environment variables, that maps ``https://github.com/`` to the bare
    mirrors in ``<repo>/../shared/git/`` (``<owner>/<name>.git``) when that folder exists; {} if it
    does not (then git projects come from GitHub itself, or from a mapping the environment
    already has). Added to those of the environment, so a mapping there keeps working; {} if the
    environment has this one already. ``python3 tests/support.py git-mirror-env`` prints it as
    shell ``export`` lines (for .ci/run)."""
    mirrors = os.path.join(os.path.dirname(os.path.abspath(repo)), "shared", "git")
    key = f"url.file://{mirrors}/.insteadOf"
    n = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    if not os.path.isdir(mirrors) or any(os.environ.get(f"GIT_CONFIG_KEY_{i}") == key for i in range(n)):
        return {}
    return {"GIT_CONFIG_COUNT": str(n + 1), f"GIT_CONFIG_KEY_{n}": key, f"GIT_CONFIG_VALUE_{n}": GITHUB}


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
    """A json cluster file of ``n`` nodes, all on the test sshd, each with its own scratch dir;
    they share one build_dir under ``scratch_root`` (a session syncs the local build there once)."""
    nodes = [{"name": f"host{i}", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
              "key_file": sshd["key_file"], "address": f"127.0.2.{i}",
              "scratch": os.path.join(str(scratch_root), f"host{i}"),
              "build_dir": os.path.join(str(scratch_root), "build")} for i in range(1, n + 1)]
    with open(path, "w") as f:
        json.dump({"nodes": nodes}, f)
    return str(path)


def run_cli(*args: str, cwd: str = REPO, env: dict | None = None, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m invoke ARGS`` in the repository as a user would; capture output."""
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})}, **kwargs)


if __name__ == "__main__" and sys.argv[1:] == ["git-mirror-env"]:
    print("".join(f"export {k}={shlex.quote(v)}\n" for k, v in git_mirror_env().items()), end="")
