"""Node leases: a second session on nodes a running session holds fails in one line (or waits
with --wait-for-nodes) and leaves the first one's services alone; a dead holder's lease is taken
over; localhost sessions pick loopback prefixes of their own; leases go at the end."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import REPO, run_cli, write_cluster_file

HOLDING = os.path.join(REPO, "tests", "scenarios", "holding.py")
LOCAL_LEASES = Path("/tmp/ducttape-leases")


def start_session(hold_dir: Path, results: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    """`invoke test holding.py` in the background; returns once its test's services run."""
    hold_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "test", HOLDING, "--results-dir", str(results),
                             *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "DUCTTAPE_HOLD_DIR": str(hold_dir), **(env or {})})
    deadline = time.monotonic() + 120
    while not (hold_dir / "started").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate(timeout=60) if proc.poll() is not None else ("", "")
            proc.kill()
            pytest.fail(f"the first session did not start its test: {out}{err}")
        time.sleep(0.1)
    return proc


def finish(proc: subprocess.Popen, hold_dir: Path, results: Path) -> dict:
    """Let the holding test end; its session's report, which must say PASS."""
    (hold_dir / "go").touch()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    doc = json.loads((results / "latest" / "report.json").read_text())
    assert [t["status"] for t in doc["tests"]] == ["PASS"], doc["tests"]
    return doc


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_second_localhost_session_on_a_leased_prefix_fails_while_the_first_keeps_running(tmp_path):
    env = {"DUCTTAPE_LOCALHOST_NET": "127.0.77"}
    first = start_session(tmp_path / "hold1", tmp_path / "results1", env=env)
    try:
        second = run_cli("test", HOLDING, "--results-dir", str(tmp_path / "results2"), env=env, timeout=120)
        line = one_line_error(second)
        session_id = os.path.basename(os.path.realpath(tmp_path / "results1" / "latest"))
        assert re.fullmatch(
            rf"error: localhost nodes 127\.0\.77\.\* in use by session {session_id} \(pid {first.pid} "
            rf"of \S+ on \S+\) for \d+s \(lease /tmp/ducttape-leases/127\.0\.77\.lease\): wait for it "
            r"to end, or pass --wait-for-nodes SECONDS to wait for it", line), line
        assert not (tmp_path / "results2").exists()

        # without a prefix named, a session takes one nobody holds, and runs beside the first
        (tmp_path / "hold3").mkdir()
        (tmp_path / "hold3" / "go").touch()
        third = run_cli("test", HOLDING, "--results-dir", str(tmp_path / "results3"), timeout=120,
                        env={"DUCTTAPE_HOLD_DIR": str(tmp_path / "hold3"), "DUCTTAPE_LOCALHOST_NET": ""})
        assert third.returncode == 0, third.stdout + third.stderr
        addresses = (tmp_path / "hold3" / "started").read_text().split()[1::2]
        assert addresses and not any(a.startswith("127.0.77.") for a in addresses), addresses
    finally:
        finish(first, tmp_path / "hold1", tmp_path / "results1")  # its services ran throughout
    assert not (LOCAL_LEASES / "127.0.77.lease").exists()


@pytest.mark.ssh
@pytest.mark.slow
def test_second_session_on_leased_ssh_nodes_fails_or_waits(tmp_path, sshd):
    cluster = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch", n=2)
    args = ("--cluster", f"json:{cluster}")
    first = start_session(tmp_path / "hold1", tmp_path / "results1", *args)
    session_id = os.path.basename(os.path.realpath(tmp_path / "results1" / "latest"))
    try:
        second = run_cli("test", HOLDING, "--results-dir", str(tmp_path / "results2"), *args, timeout=120)
        line = one_line_error(second)
        assert line.startswith(f"error: node host1 in use by session {session_id} (pid {first.pid} of ")
        assert re.search(rf"for \d+s \(lease {tmp_path}/scratch/host1/\.ducttape/lease\)", line), line
        assert not (tmp_path / "results2").exists()
        lease = (tmp_path / "scratch" / "host1" / ".ducttape" / "lease").read_text()
        assert json.loads(lease.split(" ", 1)[1])["session"] == session_id

        # with --wait-for-nodes the second session waits for the first, then runs
        (tmp_path / "hold2").mkdir()
        (tmp_path / "hold2" / "go").touch()
        waiting = subprocess.Popen(
            [sys.executable, "-m", "invoke", "test", HOLDING, "--results-dir", str(tmp_path / "results2"),
             *args, "--wait-for-nodes", "120"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "DUCTTAPE_HOLD_DIR": str(tmp_path / "hold2")})
        time.sleep(1)  # an observation window: it must not start while the first holds the nodes
        assert waiting.poll() is None and not (tmp_path / "hold2" / "started").exists()
    finally:
        finish(first, tmp_path / "hold1", tmp_path / "results1")
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, out + err
    assert "waiting up to 120s for node host1: in use by session " + session_id in out
    for i in (1, 2):
        assert not (tmp_path / "scratch" / f"host{i}" / ".ducttape" / "lease").exists()


@pytest.mark.ssh
@pytest.mark.slow
def test_a_dead_holders_lease_is_taken_over_with_a_warning(tmp_path, sshd):
    cluster = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch", n=2)
    lease = tmp_path / "scratch" / "host2" / ".ducttape" / "lease"
    lease.parent.mkdir(parents=True)
    holder = {"session": "2020-01-01--001", "host": "gone-driver", "pid": 4242, "user": "ci", "token": "t0"}
    lease.write_text(f"{int(time.time()) - 600} {json.dumps(holder)}\n")
    os.utime(lease, (time.time() - 90, time.time() - 90))  # its last heartbeat: 90 s ago
    (tmp_path / "hold").mkdir()
    (tmp_path / "hold" / "go").touch()
    proc = run_cli("test", HOLDING, "--cluster", f"json:{cluster}", "--results-dir", str(tmp_path / "r"),
                   env={"DUCTTAPE_HOLD_DIR": str(tmp_path / "hold")}, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"warning: node host2: taking over the lease of session 2020-01-01--001 \(pid 4242 "
                     r"of ci on gone-driver\) for 10m0\ds: no heartbeat for 1m3\ds", proc.stdout), proc.stdout
    assert not lease.exists()


def test_a_kept_lease_is_not_taken_over_however_old(tmp_path, sshd):
    """A --no-teardown session's lease has no heartbeat, on purpose: nobody takes it over."""
    cluster = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch", n=2)
    lease = tmp_path / "scratch" / "host2" / ".ducttape" / "lease"
    lease.parent.mkdir(parents=True)
    holder = {"session": "2020-01-01--001", "host": "laptop", "pid": 4242, "user": "ci", "token": "t0",
              "kept": True}
    lease.write_text(f"{int(time.time()) - 7200} {json.dumps(holder)}\n")
    os.utime(lease, (time.time() - 7200, time.time() - 7200))
    proc = run_cli("test", HOLDING, "--cluster", f"json:{cluster}", "--results-dir", str(tmp_path / "r"),
                   env={"DUCTTAPE_HOLD_DIR": str(tmp_path / "hold")}, timeout=120)
    assert one_line_error(proc) == (
        f"error: node host2 in use by the services session 2020-01-01--001 of ci on laptop left running "
        f"2h00m ago (--no-teardown) (lease {lease}): `invoke cluster.clean` where that session ran ends them "
        "and frees the nodes")
    assert lease.exists()


def test_ctrl_c_releases_the_lease(tmp_path):
    env = {"DUCTTAPE_LOCALHOST_NET": "127.0.78"}
    first = start_session(tmp_path / "hold", tmp_path / "results", env=env)
    assert (LOCAL_LEASES / "127.0.78.lease").exists()
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 130, out + err
    assert not (LOCAL_LEASES / "127.0.78.lease").exists()
