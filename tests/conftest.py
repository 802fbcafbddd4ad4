"""Fixtures shared by the framework's own test suite: a private sshd and clusters on it."""

from __future__ import annotations

import os
import subprocess

import pytest

from support import free_port, git_mirror_env, run_cli, wait_for_port, write_cluster_file

SLOW_MARKERS = {"maven", "kafka", "vagrant"}


def pytest_configure(config):
    # git projects (the Strimzi bridge of projects.yaml) come from the local mirrors when there
    # are any beside the repository, in every `invoke build` the tests run
    os.environ.update(git_mirror_env())


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_MARKERS & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def json_cluster_file(sshd, tmp_path):
    return write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch")


@pytest.fixture(scope="session")
def built():
    """`invoke build` of the default projects.yaml (Kafka, ZooKeeper, the Strimzi bridge from
    git) into the default build folder (a no-op when they are up to date)."""
    proc = run_cli("build", timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
