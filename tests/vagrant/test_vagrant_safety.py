"""Leases and host keys on a real 2-worker cluster on the docker provider: `cluster.up` records
the workers' host keys, a changed key is refused until `cluster.up` records it again, and a
second session on workers a running session holds fails in one line while the first one's
services keep running."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ducttape.vagrant.cluster_file import CLUSTER_FILE, KNOWN_HOSTS_FILE

pytestmark = [pytest.mark.vagrant, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
HOLDING = str(REPO / "tests" / "scenarios" / "holding.py")


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def scanned(node) -> set[str]:
    """The host keys the worker's sshd shows, as OpenSSH's ssh-keyscan sees them."""
    out = subprocess.run(["ssh-keyscan", "-p", str(node["port"]), node["hostname"]],
                         capture_output=True, text=True, timeout=60).stdout
    return {" ".join(line.split()[1:3]) for line in out.splitlines() if not line.startswith("#")}


def recorded(copy) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for line in (copy.root / KNOWN_HOSTS_FILE).read_text().splitlines():
        host, kind, key = line.split()[:3]
        keys.setdefault(host, set()).add(f"{kind} {key}")
    return keys


@pytest.mark.timeout(2400)
def test_host_keys_and_leases_on_docker_workers(vagrant_copy, tmp_path):
    copy = vagrant_copy
    copy.write_local(num_workers=2)
    ok(copy.invoke("cluster.up", timeout=1800))
    doc = json.loads((copy.root / CLUSTER_FILE).read_text())
    assert doc["known_hosts"] == str(copy.root / KNOWN_HOSTS_FILE) and doc["host_key_policy"] == "strict"
    nodes = doc["nodes"]
    keys = recorded(copy)
    assert set(keys) == {f"[127.0.0.1]:{node['port']}" for node in nodes}
    for node in nodes:
        assert scanned(node) <= keys[f"[127.0.0.1]:{node['port']}"]

    # a session holds both workers; a second one fails in one line, the first is untouched
    hold, results = tmp_path / "hold", copy.root / "results"
    hold.mkdir()
    first = subprocess.Popen([sys.executable, "-m", "ducttape", "test", HOLDING, "--cluster", "vagrant",
                              "--results-dir", str(results)], cwd=copy.root, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "DUCTTAPE_HOLD_DIR": str(hold)})
    deadline = time.monotonic() + 300
    while not (hold / "started").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.2)
    session_id = os.path.basename(os.path.realpath(results / "latest"))
    second = copy.invoke("test", HOLDING, "--cluster", "vagrant", "--results-dir", str(tmp_path / "r2"))
    assert second.returncode == 2, second.stdout + second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        rf"error: node worker1 in use by session {session_id} \(pid {first.pid} of \S+ on \S+\) for "
        r"\d+s \(lease /mnt/\.ducttape/lease\): wait for it to end, or pass --wait-for-nodes SECONDS "
        r"to wait for it", lines[0]), second.stderr
    assert not (tmp_path / "r2").exists()
    (hold / "go").touch()
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err  # its services ran from start to end
    report = json.loads((results / "latest" / "report.json").read_text())
    assert [t["status"] for t in report["tests"]] == ["PASS"] and report["tests"][0]["nodes"] == ["worker1", "worker2"]

    # worker2 gets new host keys: refused until `cluster.up` records them again
    container = (copy.root / ".vagrant/machines/worker2/docker/id").read_text().strip()
    subprocess.run(["docker", "exec", container, "sh", "-c",
                    "rm /etc/ssh/ssh_host_* && ssh-keygen -A && kill -HUP 1"],
                   check=True, capture_output=True, timeout=60)
    (hold / "go").touch()
    refused = copy.invoke("test", HOLDING, "--cluster", "vagrant", "--results-dir", str(tmp_path / "r3"),
                          env={**os.environ, "DUCTTAPE_HOLD_DIR": str(hold)})
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert re.fullmatch(r"error: host key of node worker2 \(\[127\.0\.0\.1\]:\d+\) changed: \S+ has "
                        r"\S+ SHA256:\S+, the host shows \S+ SHA256:\S+; if the node was rebuilt, .*",
                        refused.stderr.strip()), refused.stderr
    ok(copy.invoke("cluster.up", timeout=900))
    ok(copy.invoke("test", HOLDING, "--cluster", "vagrant", "--results-dir", str(tmp_path / "r3"),
                   env={**os.environ, "DUCTTAPE_HOLD_DIR": str(hold)}))
