"""Fixtures shared by the framework's own test suite: a private sshd, clusters, the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLOW_MARKERS = {"maven", "kafka", "vagrant"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_MARKERS & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 with its own host key and a client key for root."""
    d = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client_key")], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = free_port()
    (d / "sshd_config").write_text(f"""
Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
AuthorizedKeysFile {d}/authorized_keys
PidFile {d}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
LogLevel ERROR
""")
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config")],
                            stderr=open(d / "sshd.log", "w"))
    try:
        wait_for_port("127.0.0.1", port)
        yield {"port": port, "key_file": str(d / "client_key"), "user": "root", "dir": d}
    finally:
        proc.terminate()
        proc.wait(10)


def write_cluster_file(path, sshd, scratch_root, n: int = 3) -> str:
    """A json cluster file of ``n`` nodes, all on the test sshd, each with its own scratch dir."""
    nodes = [{"name": f"host{i}", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
              "key_file": sshd["key_file"], "address": f"127.0.2.{i}",
              "scratch": os.path.join(str(scratch_root), f"host{i}")} for i in range(1, n + 1)]
    with open(path, "w") as f:
        json.dump({"nodes": nodes}, f)
    return str(path)


@pytest.fixture
def json_cluster_file(sshd, tmp_path):
    return write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch")


def run_cli(*args: str, cwd: str = REPO, env: dict | None = None, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m invoke ARGS`` in the repository as a user would; capture output."""
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})}, **kwargs)
