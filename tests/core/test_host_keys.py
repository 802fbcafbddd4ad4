"""Host keys checked against the cluster's own known_hosts file, by paramiko and by rsync alike:
an unknown host refused (strict) or recorded (accept-new), a changed key refused in one line with
both fingerprints, `off` announced; a refused or failed login leaves no transport behind."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import paramiko
import pytest

from ducttape.build import sync
from ducttape.build.sync import sync_builds
from ducttape.cluster import load_cluster
from ducttape.errors import ClusterError, ConfigError
from ducttape.remote import SshAccount
from ducttape.remote.host_keys import KnownHosts
from support import REPO, Sshd, run_cli, write_cluster_file

pytestmark = [pytest.mark.ssh]
HOLDING = os.path.join(REPO, "tests", "scenarios", "holding.py")


@pytest.fixture
def server(tmp_path):
    """An sshd of the test's own, whose host key the test may change."""
    sshd = Sshd(tmp_path / "sshd").start()
    yield sshd
    sshd.stop()


def fingerprint(public_key_file: Path) -> str:
    """OpenSSH's own SHA256 fingerprint of a public key file."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key_file)],
                         capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def cluster_file(tmp_path, server: Sshd, **top) -> str:
    path = write_cluster_file(tmp_path / "cluster.json", server.info(), tmp_path / "scratch", n=2)
    doc = json.loads(Path(path).read_text())
    doc.update(top)
    Path(path).write_text(json.dumps(doc))
    return path


def test_a_changed_host_key_fails_in_one_line_naming_the_node_and_both_fingerprints(tmp_path, server):
    path = cluster_file(tmp_path, server)
    recorded = fingerprint(server.dir / "host_key.pub")
    server.stop()
    server.new_host_key()  # the node was rebuilt, or someone else answers at its address
    server.start()
    shown = fingerprint(server.dir / "host_key.pub")
    results = tmp_path / "results"
    proc = run_cli("test", HOLDING, "--cluster", f"json:{path}", "--results-dir", str(results))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"error: host key of node host1 ([127.0.0.1]:{server.port}) changed: {server.known_hosts} has "
        f"ssh-ed25519 {recorded}, the host shows ssh-ed25519 {shown}; if the node was rebuilt, remove its "
        f"line (ssh-keygen -R '[127.0.0.1]:{server.port}' -f {server.known_hosts})"], proc.stderr
    assert not results.exists()


def test_strict_refuses_a_host_not_in_the_file_and_reads_hashed_entries(tmp_path, server, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = cluster_file(tmp_path, server)
    doc = json.loads(Path(path).read_text())
    del doc["known_hosts"]  # the default: ~/.ssh/known_hosts, strict
    Path(path).write_text(json.dumps(doc))
    cluster = load_cluster(f"json:{path}")
    try:
        with pytest.raises(ClusterError) as err:
            cluster.check()
        known = tmp_path / "home" / ".ssh" / "known_hosts"
        assert str(err.value).startswith(
            f"host key of node host1 ([127.0.0.1]:{server.port}) is not in {known} (host key policy "
            f"strict; it shows ssh-ed25519 {fingerprint(server.dir / 'host_key.pub')}): record it there")
        assert not known.exists()
        known.parent.mkdir(parents=True)
        known.write_text(Path(server.known_hosts).read_text())
        subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)
        assert "127.0.0.1" not in known.read_text()  # hashed, as Debian's ssh writes them
        cluster.check()
    finally:
        cluster.close()


def test_accept_new_records_on_first_contact_for_paramiko_and_rsync_then_is_strict(tmp_path, server):
    known = tmp_path / "cluster_known_hosts"
    path = cluster_file(tmp_path, server, known_hosts=str(known), host_key_policy="accept-new")
    cluster = load_cluster(f"json:{path}")
    try:
        cluster.check()
        kind, key = (server.dir / "host_key.pub").read_text().split()[:2]
        assert known.read_text() == f"[127.0.0.1]:{server.port} {kind} {key}\n"
        assert oct(known.stat().st_mode & 0o777) == "0o600"
        build = tmp_path / "local-build"
        build.mkdir()
        (build / "manifest.json").write_text('{"format": 1, "projects": {}}\n')
        assert sync_builds(cluster.nodes, build, out=lambda line: None)  # OpenSSH reads that file
        assert known.read_text().count("\n") == 1
    finally:
        cluster.close()

    server.stop()
    server.new_host_key()
    server.start()
    cluster = load_cluster(f"json:{path}")
    try:
        with pytest.raises(ClusterError, match=r"host key of node host1 .* changed: "):
            cluster.check()
        node = cluster.nodes[0]
        with pytest.raises(ClusterError, match="rsync exited with code 255: Host key verification failed"):
            sync._rsync(sync._target(node), build, node.name)  # rsync, on its own, refuses it too
    finally:
        cluster.close()


def test_policy_off_is_announced_at_the_start_of_the_session(tmp_path, server):
    path = cluster_file(tmp_path, server, known_hosts="/dev/null", host_key_policy="off")
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "go").touch()
    proc = run_cli("test", HOLDING, "--cluster", f"json:{path}", "--results-dir", str(tmp_path / "r"),
                   env={"DUCTTAPE_HOLD_DIR": str(hold)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == (
        f"warning: host keys are not checked on the cluster in {path} (2 nodes) (host_key_policy "
        "off): anyone between here and a node can pose as it")


@pytest.mark.parametrize("top, message", [
    ({"host_key_policy": "trust-me"}, "\"host_key_policy\" is 'trust-me'; use one of strict, accept-new, off"),
    ({"known_hosts": 7}, '"known_hosts" must be the path of a known_hosts file'),
])
def test_bad_host_key_settings_are_one_line(tmp_path, top, message):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"nodes": [{"hostname": "h"}], **top}))
    with pytest.raises(ConfigError) as err:
        load_cluster(f"json:{path}")
    assert str(err.value) == f"cluster file {path}: {message}"


def transports() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, paramiko.Transport)]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("failure", ["login", "host key"])
def test_a_failed_connection_leaves_no_transport_or_socket(tmp_path, server, failure):
    other_key = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True)
    known = KnownHosts(server.known_hosts) if failure == "login" else KnownHosts(str(tmp_path / "empty"))
    key = str(other_key) if failure == "login" else server.key_file
    before_threads, before_fds = len(transports()), open_fds()
    for _ in range(3):
        account = SshAccount("n1", "127.0.0.1", user="root", port=server.port, key_file=key,
                             known_hosts=known)
        with pytest.raises(ClusterError, match="Authentication failed" if failure == "login" else "is not in"):
            account.connect()
        account.close()
    deadline = time.monotonic() + 5  # a closed transport's thread ends on its next read
    while len(transports()) > before_threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(transports()) == before_threads
    assert open_fds() == before_fds
