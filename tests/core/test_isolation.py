"""Each test attempt in its own process: what a timeout or Ctrl-C leaves behind (nothing), on
the localhost cluster and over SSH; and the runner's per-test teardown of services."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

from support import REPO, free_port, run_cli, write_cluster_file
from test_runner_cli import SCENARIOS, assert_no_process, report, session

STUCK = os.path.join(SCENARIOS, "stuck.py")
MODES = ["python", "sleep", "remote"]
CLUSTERS = ["localhost", pytest.param("ssh", marks=pytest.mark.ssh)]


def one_node_cluster(kind: str, request, tmp_path) -> str:
    if kind == "localhost":
        return "localhost:1"
    sshd = request.getfixturevalue("sshd")
    return "json:" + write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch", n=1)


def stuck_env(tmp_path, mode: str) -> tuple[dict, str]:
    marker = str(random.randrange(10 ** 11, 10 ** 12))  # digits: it ends up in `sleep 600 0.<marker>`
    state = tmp_path / "state"
    state.mkdir()
    return {"DUCTTAPE_STUCK_MODE": mode, "DUCTTAPE_TEST_MARKER": marker,
            "DUCTTAPE_STUCK_STATE": str(state)}, marker


def marked(marker: str) -> list[str]:
    """Processes whose command line carries the marker (the pattern itself does not match)."""
    return subprocess.run(["pgrep", "-f", f"[-.]{marker}"], capture_output=True, text=True).stdout.split()


@pytest.mark.parametrize("where", CLUSTERS)
@pytest.mark.parametrize("mode", MODES)
def test_a_stuck_test_times_out_and_leaves_nothing(tmp_path, request, mode, where):
    env, marker = stuck_env(tmp_path, mode)
    results = tmp_path / "results"
    proc = run_cli("test", STUCK, "--timeout", "3", "--cluster", one_node_cluster(where, request, tmp_path),
                   "--results-dir", str(results), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    stuck, after = report(results)["tests"]
    assert stuck["status"] == "FAIL" and "timed out after 3s" in stuck["error"], stuck
    assert "[1/2] stuck::StuckTest.test_stuck ... FAIL" in proc.stdout
    # the next test ran on the same node and saw nothing of the stuck one (it asserts so itself)
    assert after["status"] == "PASS" and after["nodes"] == stuck["nodes"], after
    assert after["data"] == {"stuck_process": "gone", "trace_changed": False, "marked_processes": [],
                             "service_folder": False}
    # ... within 10 s of the timeout
    assert after["started"] - (stuck["started"] + 3) < 10
    assert not marked(marker)
    assert_no_process(marker)


@pytest.mark.slow
@pytest.mark.parametrize("where", CLUSTERS)
@pytest.mark.parametrize("mode", MODES)
def test_ctrl_c_of_the_session_leaves_nothing(tmp_path, request, mode, where):
    env, marker = stuck_env(tmp_path, mode)
    results = tmp_path / "results"
    args = [sys.executable, "-m", "invoke", "test", f"{STUCK}::StuckTest", "--results-dir", str(results),
            "--cluster", one_node_cluster(where, request, tmp_path)]
    run = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 60
        wanted = 2 if mode == "remote" else 1  # the service; and the blocked `sleep 600 0.<marker>`
        while len(marked(marker)) < wanted or not os.path.exists(env["DUCTTAPE_STUCK_STATE"] + "/pid"):
            assert time.monotonic() < deadline, f"the stuck test never got stuck: {marked(marker)}"
            time.sleep(0.1)
        with open(env["DUCTTAPE_STUCK_STATE"] + "/pid") as f:
            test_pid = int(f.read())
        run.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        while marked(marker) or os.path.exists(f"/proc/{test_pid}"):
            assert time.monotonic() - interrupted < 10, f"left running: {marked(marker)}"
            time.sleep(0.1)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, out + err
    assert "Traceback" not in err
    doc = report(results)
    assert doc["interrupted"] is True
    assert [t["status"] for t in doc["tests"]] == ["FAIL"] and "interrupted" in doc["tests"][0]["error"]
    assert_no_process(marker)


@pytest.mark.ssh
def test_a_server_that_died_does_not_pass_for_another_nodes(tmp_path, sshd):
    """Three nodes on one host without their own addresses: two servers die with "Address
    already in use" while the first answers every probe; the test fails naming a dead one."""
    cluster_file = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch")
    doc = json.load(open(cluster_file))
    for node in doc["nodes"]:
        del node["address"]  # every node is 127.0.0.1
    json.dump(doc, open(cluster_file, "w"))
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "colliding.py"), "--cluster", f"json:{cluster_file}",
                   "--results-dir", str(results), env={"DUCTTAPE_TEST_PORT": str(free_port())})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    test = report(results)["tests"][0]
    assert test["status"] == "FAIL", test
    died = re.search(r"WebService-1 on (host[123]) exited while waiting for http://127\.0\.0\.1:\d+/; "
                     r"cause: .*Address already in use;", test["error"])
    assert died, test["error"]  # which node won the port depends on who bound first
    log = os.path.join(session(results), test["folder"], "WebService-1", died[1], "service.log")
    assert "Address already in use" in open(log).read()
