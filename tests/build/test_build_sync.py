"""Build folders of json-cluster nodes brought up to date with rsync at session start, over the
suite's private sshd (real OpenSSH, real rsync)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from build_helpers import REPO
from ducttape.build import layout
from ducttape.aws import provision
from ducttape.build.sync import BWLIMIT_VARIABLE, MARKER, sync_builds
from ducttape.cluster.json_file import JsonCluster
from ducttape.cluster.localhost import loopback_net
from ducttape.errors import ClusterError
from ducttape.remote.host_keys import KnownHosts
from support import descendants, run_cli

pytestmark = [pytest.mark.ssh]


def cluster_file(path: Path, sshd, build_dirs: list[str], scratch: Path) -> Path:
    """Nodes host1..N on the test sshd, node i with build_dirs[i-1] and its own loopback address."""
    net = loopback_net()
    nodes = [{"name": f"host{i}", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
              "key_file": sshd["key_file"], "address": f"{net}.{200 + i}", "scratch": str(scratch / f"host{i}"),
              "build_dir": build_dir} for i, build_dir in enumerate(build_dirs, 1)]
    path.write_text(json.dumps({"nodes": nodes, "known_hosts": sshd["known_hosts"]}))
    return path


def fake_build(root: Path) -> Path:
    """A small build folder: a manifest, a project with libs and a launcher, a checkout's .git."""
    (root / "p" / "libs").mkdir(parents=True)
    (root / "p" / "libs" / "p.jar").write_bytes(b"jar 1")
    (root / "p" / "bin").mkdir()
    (root / "p" / "bin" / "run-class").write_text("#!/bin/sh\n")
    (root / "p" / ".git").mkdir()
    (root / "p" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "p" / "target").mkdir()
    (root / "p" / "target" / "p.jar").write_bytes(b"jar 1")
    (root / ".lock").write_text("")
    (root / layout.MANIFEST).write_text('{"format": 1, "projects": {"p": {"status": "ok"}}}\n')
    return root


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_sync_sends_what_changed_to_each_build_dir_once(sshd, tmp_path):
    local = fake_build(tmp_path / "local")
    shared, own = tmp_path / "nodes" / "shared", tmp_path / "nodes" / "own"
    cluster = JsonCluster(str(cluster_file(tmp_path / "c.json", sshd, [str(shared), str(shared), str(own)],
                                           tmp_path / "scratch")))
    lines: list[str] = []
    try:
        first = sync_builds(cluster.nodes, local, out=lines.append)
        # host1 and host2 share a build_dir: synced once; what nodes run, not the history
        assert sorted(s.nodes for s in first) == [["host1", "host2"], ["host3"]]
        for folder in (shared, own):
            assert files(folder) == {"manifest.json", "p/libs/p.jar", "p/bin/run-class", MARKER}
            assert (folder / "manifest.json").read_text() == (local / "manifest.json").read_text()
        assert all(s.files == 2 for s in first) and len(lines) == 2
        assert lines[0].startswith("sync: ") and "2 files" in lines[0]

        # Same manifest: nothing is sent, not even compared file by file.
        assert sync_builds(cluster.nodes, local, out=lines.append) == [] and len(lines) == 2

        # A rebuilt project: only its changed file goes (then the manifest).
        (local / "p" / "libs" / "p.jar").write_bytes(b"jar 2")
        (local / "p" / "libs" / "new.jar").write_bytes(b"new")
        (local / layout.MANIFEST).write_text('{"format": 1, "projects": {"p": {"status": "ok", "n": 2}}}\n')
        (own / "p" / "libs" / "stale.jar").write_bytes(b"left over")
        second = sync_builds(cluster.nodes, local, out=lines.append)
        assert sorted(s.files for s in second) == [2, 2]
        assert (own / "p" / "libs" / "p.jar").read_bytes() == b"jar 2"
        assert not (own / "p" / "libs" / "stale.jar").exists()  # the node's copy is the local build
        assert (shared / "manifest.json").read_text() == (local / "manifest.json").read_text()
        assert (own / MARKER).is_file()  # --delete leaves the marker of the first sync alone
    finally:
        cluster.close()


def test_unsyncable_node_fails_the_session_in_one_line(sshd, tmp_path):
    local = fake_build(tmp_path / "local")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the build_dir should be")
    path = cluster_file(tmp_path / "c.json", sshd, [str(tmp_path / "ok"), str(tmp_path / "ok"), str(blocked / "build")],
                        tmp_path / "scratch")
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--cluster", f"json:{path}", "--results-dir", str(results),
                   env={layout.BUILD_DIR_ENV: str(local)}, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"error: cannot sync the build folder to host3 (root@127.0.0.1:{blocked}/build): "
                               "mkdir: "), lines[0]
    assert "Not a directory" in lines[0]
    assert not results.exists()  # no test ran, nothing written


@pytest.mark.kafka
def test_kafka_scenario_runs_on_nodes_with_an_empty_build_dir(sshd, tmp_path, built):
    build_dirs = [str(tmp_path / "nodes" / f"build{i}") for i in (1, 2)]
    path = cluster_file(tmp_path / "c.json", sshd, build_dirs, tmp_path / "scratch")
    scenario = str(REPO / "tests" / "build" / "scenarios" / "synced_build.py")
    outputs = []
    for _session in (1, 2):
        proc = run_cli("test", scenario, "--cluster", f"json:{path}", "--results-dir", str(tmp_path / "results"),
                       timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads((tmp_path / "results" / "latest" / "report.json").read_text())
        assert report["summary"] == {"PASS": 1, "total": 1}
        assert report["tests"][0]["data"]["build_dirs"] == build_dirs
        outputs.append(proc.stdout)
    synced = [ln for ln in outputs[0].splitlines() if ln.startswith("sync: ")]
    assert len(synced) == 2 and all(f"{layout.build_dir()} -> host" in ln for ln in synced), outputs[0]
    for d in build_dirs:
        assert Path(d, layout.MANIFEST).read_text() == layout.manifest_path().read_text()
        assert os.access(Path(d, layout.launcher("strimzi-kafka-bridge")), os.X_OK)
        assert not Path(d, "strimzi-kafka-bridge", ".git").exists()
    print(outputs[0])
    # The second session finds every node's manifest equal to the local one: no sync at all.
    assert not [ln for ln in outputs[1].splitlines() if ln.startswith("sync: ")], outputs[1]


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("build_dir", ["/", "/home/ubuntu", "/root", "/etc"])
def test_a_build_dir_of_root_or_a_home_folder_is_refused_at_load(sshd, tmp_path, build_dir):
    local = fake_build(tmp_path / "local")
    path = cluster_file(tmp_path / "c.json", sshd, [str(tmp_path / "ok"), build_dir], tmp_path / "scratch")
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--cluster", f"json:{path}", "--results-dir", str(results),
                   env={layout.BUILD_DIR_ENV: str(local)}, timeout=300)
    line = one_line_error(proc)
    assert f'node 2: "build_dir" {build_dir!r} is / , a home folder or a system folder' in line, line
    assert str(path) in line
    assert not results.exists() and not (tmp_path / "ok").exists()  # nothing synced anywhere


def test_a_folder_with_files_but_no_marker_is_never_synced_into(sshd, tmp_path):
    """A build_dir that passes the checks of its name but holds somebody's files (a home folder
    under another name): the session stops in one line before rsync runs; nothing is deleted."""
    local = fake_build(tmp_path / "local")
    home = tmp_path / "nodes" / "ubuntu"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA the user's key\n")
    before = files(home)
    new = str(tmp_path / "nodes" / "new")
    path = cluster_file(tmp_path / "c.json", sshd, [new, str(home), new], tmp_path / "scratch")
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--cluster", f"json:{path}", "--results-dir", str(results),
                   env={layout.BUILD_DIR_ENV: str(local)}, timeout=300)
    line = one_line_error(proc)
    assert line.startswith(f"error: cannot sync the build folder to host2 (root@127.0.0.1:{home}): "
                           f"{home} holds files but not {MARKER}"), line
    assert files(home) == before and (home / ".ssh" / "authorized_keys").read_text().endswith("key\n")
    assert not results.exists() and not os.path.exists(new)  # checked everywhere before any write

    # A folder the first sync made is ducttape's from then on, files and all.
    cluster = JsonCluster(str(cluster_file(tmp_path / "c2.json", sshd, [str(tmp_path / "nodes" / "new")],
                                           tmp_path / "scratch")))
    try:
        assert len(sync_builds(cluster.nodes, local, out=lambda line: None)) == 1
        (local / layout.MANIFEST).write_text('{"format": 1, "projects": {"p": {"status": "ok", "n": 3}}}\n')
        assert len(sync_builds(cluster.nodes, local, out=lambda line: None)) == 1
    finally:
        cluster.close()


def test_aws_rsync_refuses_a_folder_that_is_not_ours(sshd, tmp_path):
    """`cluster.up --aws` and `cluster.rsync --aws` push with --delete too: the same claim."""
    local = fake_build(tmp_path / "local")
    node = {"name": "worker1", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
            "key_file": sshd["key_file"], "address": "127.0.0.1"}
    known = KnownHosts(sshd["known_hosts"], "strict")
    home = tmp_path / "home" / "admin"
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("mine")
    with pytest.raises(ClusterError, match=f"cannot rsync build/ to worker1: {home} holds files but not"):
        provision.rsync_build(node, local, str(home), known)
    assert (home / "notes.txt").read_text() == "mine"

    fresh = tmp_path / "opt" / "build"
    provision.rsync_build(node, local, str(fresh), known)
    provision.rsync_build(node, local, str(fresh), known)  # the marker survives --delete: still ours
    assert (fresh / MARKER).is_file() and (fresh / "p" / "libs" / "p.jar").read_bytes() == b"jar 1"


@pytest.mark.slow
def test_ctrl_c_during_a_slow_sync_ends_within_5_s_with_no_rsync_left(sshd, tmp_path):
    """The session-start sync, slowed to 500 KiB/s, is interrupted the way a terminal's Ctrl-C
    does it (SIGINT to the foreground process group: invoke, not rsync, which runs in a session
    of its own)."""
    local = fake_build(tmp_path / "local")
    (local / "p" / "libs" / "big.jar").write_bytes(os.urandom(20 * 1024 * 1024))
    path = cluster_file(tmp_path / "c.json", sshd, [str(tmp_path / "nodes" / f"build{i}") for i in (1, 2)],
                        tmp_path / "scratch")  # two syncs at once, each in a thread of its own
    proc = subprocess.Popen(
        [sys.executable, "-m", "invoke", "test", f"{REPO}/tests/scenarios/holding.py", "--cluster", f"json:{path}",
         "--results-dir", str(tmp_path / "results")], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "DUCTTAPE_BUILD_DIR": str(local), BWLIMIT_VARIABLE: "500"})
    deadline = time.monotonic() + 120
    while len(rsyncs := [p for p in descendants(proc.pid) if comm(p) == "rsync"]) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(1)  # the rsyncs are sending now (20 MB at 500 KiB/s: 40 s)
    stopped = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - stopped
    assert took < 5, f"{took:.1f}s"
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and err.strip() == "stopped by SIGINT", err
    assert [p for p in rsyncs if comm(p) == "rsync"] == []
    assert not (tmp_path / "scratch" / "host1" / ".ducttape" / "lease").exists()


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
