"""Faults on the localhost cluster (process faults on real processes; network faults refused in
one line), the runner healing what a failed or hung test left, and the checkers and plots on a
history with known numbers."""

from __future__ import annotations

import importlib.util
import json
import os
import time

import pytest
from PIL import Image

from ducttape.cluster.localhost import LocalhostCluster
from ducttape.errors import ConfigError, TimeoutError  # noqa: A004 - ducttape's own
from ducttape.faults import (INFO, OK, Bandwidth, Delay, FaultSet, History, Isolate, Kill, Loss,
                             Partition, Pause, checkers)
from ducttape.faults.plots import plot_history
from ducttape.remote.account import poll
from plot_pixels import check_fault_shading, plot_area
from support import run_cli

SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios", "fault_teardown.py")


@pytest.fixture
def local():
    cluster = LocalhostCluster(3)
    try:
        yield cluster
    finally:
        cluster.close()


def counter_service(cluster):
    """The scenario fixture's CounterService, started on one node of ``cluster``."""
    spec = importlib.util.spec_from_file_location("fault_teardown", SCENARIO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    service = module.CounterService(cluster, 1)
    service.start()
    return service


def count(service):
    node = service.nodes[0]
    return int(node.account.read_file(service.path(node, "counter")).strip() or 0)


def advances(service, within=15.0):
    """Whether the counter moves on within ``within`` seconds (it ticks every 50 ms when the
    machine is not starved)."""
    before = count(service)
    try:
        poll(lambda: count(service) > before, within, lambda: "the counter stayed put")
    except TimeoutError:
        return False
    return True


def stays(service, seconds=1.0):
    """Whether the counter stays put for ``seconds`` (20 ticks of a running one)."""
    before = count(service)
    time.sleep(seconds)
    return count(service) == before


def test_pause_stops_a_counter_resume_restarts_it_kill_leaves_no_process(local):
    counter = counter_service(local)
    node = counter.nodes[0]
    history = History()
    faults = FaultSet(local, history)
    try:
        assert advances(counter)
        pause = faults.pause(counter, node)
        state = node.account.ssh_output(f"ps -o stat= -p {counter.pids(node)[0]}").strip()
        assert state.startswith("T"), state
        assert stays(counter)
        assert faults.nodes == [node]
        faults.heal(pause)
        assert advances(counter)

        pid = counter.pids(node)[0]
        kill = faults.kill(counter, node, restart=False)
        assert counter.pids(node) == [] and not node.account.alive(pid)
        faults.heal(kill)
        assert counter.pids(node) == []
        restart = faults.kill(counter, node)  # healing starts it again
        faults.heal(restart)
        assert counter.alive(node) and advances(counter)
    finally:
        counter.stop()
    kinds = [(f.fault, f.targets) for f in history.faults()]
    assert kinds == [("pause", (node.name,)), ("kill", (node.name,)), ("kill", (node.name,))]
    assert all(f.end is not None and f.end >= f.start for f in history.faults())
    assert faults.active == [] and faults.nodes == []


def test_faults_that_cannot_apply_are_one_line_errors(local):
    a, b, c = local.nodes
    faults = FaultSet(local)
    other = LocalhostCluster(1)
    counter = counter_service(local)
    try:
        cases = [
            (Partition([[a], [b]]), "network faults need nodes with a network of their own; "
                                    "node1 is a logical node of the localhost cluster"),
            (Isolate(a), "node1 is a logical node of the localhost cluster"),
            (Loss(a, 30), "node1 is a logical node of the localhost cluster"),
            (Bandwidth(a, "1mbit"), "node1 is a logical node of the localhost cluster"),
            (Delay(a, 100, ports=[22]), "node1 is a logical node of the localhost cluster"),
            (Partition([[a, b], [b, c]]), "partition node1,node2 | node2,node3: node2 is named twice"),
            (Partition([[a, b]]), "a partition needs at least two non-empty groups"),
            (Loss(a, 130), "percent must be in (0, 100]"),
            (Bandwidth(a, "fast"), "bandwidth rate 'fast' is not a tc rate"),
            (Delay(a, 100, method="carrier-pigeon"), "method 'carrier-pigeon' is not one of"),
            (Pause(counter, other.nodes[0]),
             "node1 is not a node of this test's cluster (node1, node2, node3)"),
            (Kill(counter, b), "CounterService-1 does not run on node2"),
        ]
        for fault, expected in cases:
            with pytest.raises(ConfigError) as err:
                faults.start(fault)
            assert expected in str(err.value)
            assert "\n" not in str(err.value)
    finally:
        counter.stop()
        other.close()
    assert faults.active == [] and faults.history.records == []


def test_runner_heals_what_failed_and_hung_tests_left_and_refuses_network_faults(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", SCENARIO, "--timeout", "20", "--results-dir", str(results),
                   env={"DUCTTAPE_LOCALHOST_NET": os.environ.get("DUCTTAPE_LOCALHOST_NET", "127.0.1")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    session = results / "latest"
    tests = {t["test_id"].split("::")[1]: t
             for t in json.loads((session / "report.json").read_text())["tests"]}
    assert {name: t["status"] for name, t in tests.items()} == {
        "FailsMidFault.test_fails": "FAIL", "HangsMidFault.test_hangs": "FAIL",
        "NetworkFaultOnLocalhost.test_partition": "FAIL"}
    assert "failing on purpose" in tests["FailsMidFault.test_fails"]["error"]
    assert "timed out after 20s" in tests["HangsMidFault.test_hangs"]["error"]

    # the failed test's own teardown heals the fault and records its end
    failed = tests["FailsMidFault.test_fails"]
    history = History.load(str(session / failed["folder"] / "history.jsonl"))
    [pause] = history.faults()
    assert pause.fault == "pause" and pause.end is not None, history.records
    ends = [r for r in history.records if r["type"] == "fault" and r["event"] == "end"]
    assert ends[0]["detail"] == "cleaned up by the runner"
    log = (session / failed["folder"] / "test_log.info").read_text()
    # healed (SIGCONT) before its service was stopped: the service stopped on SIGTERM alone
    assert log.index("cleaned up by the runner") < log.index("stopping CounterService-1")

    # the hung test's process was killed: the runner undid the fault from its reported state
    # (SIGCONT) before it stopped the service
    hung = tests["HangsMidFault.test_hangs"]
    [pause] = History.load(str(session / hung["folder"] / "history.jsonl")).faults()
    assert pause.fault == "pause" and pause.end is None
    runner_log = (session / "session_log.info").read_text()
    assert "undoing FaultSet-1 on node1: kill -CONT " in runner_log
    assert "could not stop" not in runner_log

    refused = tests["NetworkFaultOnLocalhost.test_partition"]
    assert refused["error"].startswith("ConfigError: partition node1 | node2: network faults need "
                                       "nodes with a network of their own")
    assert "\n" not in refused["error"]
    assert not (session / refused["folder"] / "workload-started").exists()


@pytest.mark.parametrize("scenario, param, line", [
    ("kafka_partition", "active=-1", "--param active=-1 is not a number of seconds above 0: "
                                     "use e.g. active=20 (the default)"),
    ("zookeeper_partition", "quiet=abc", "--param quiet='abc' is not a number of seconds above 0: "
                                         "use e.g. quiet=10 (the default)"),
    ("kafka_latency", "active=0", "--param active=0 is not a number of seconds above 0: "
                                  "use e.g. active=30 (the default)"),
], ids=["kafka_partition", "zookeeper_partition", "kafka_latency"])
def test_a_bad_timeline_fails_a_fault_scenario_in_one_line_before_any_service(tmp_path, scenario, param, line):
    """`--param active=S` or `quiet=S` that is not seconds above 0 fails the fault scenario in
    its setUp, before Kafka or ZooKeeper would start (so no build is needed), in one line that
    names the parameter and the scenario's default. Like any failed test, exit code 1: the
    value is the scenario's to judge, not the session's."""
    results = tmp_path / "results"
    proc = run_cli("test", scenario, "--param", param, "--results-dir", str(results), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    [test] = json.loads((results / "latest" / "report.json").read_text())["tests"]
    assert test["status"] == "FAIL" and test["error"] == f"ConfigError: {line}", test
    assert f"    ConfigError: {line}\n" in proc.stdout
    assert test["duration"] < 5
    folder = results / "latest" / test["folder"]
    assert not [p.name for p in folder.iterdir() if p.is_dir()], "a service started"


def make_history(path=None) -> History:
    """A history with known numbers: 10 sends a second for 30 s at 5 ms, none acknowledged from
    10 s to 14 s (a fault from 10 s to 20 s, 50 ms while it lasts), one acknowledged record never
    read, one read twice."""
    history = History(path)
    t0 = 1_000_000.0
    for i in range(300):
        at = t0 + i / 10
        if 10 <= at - t0 < 14:
            history.op("send", f"v{i}", INFO, time_s=at, error="timeout")
            continue
        history.op("send", f"v{i}", OK, latency=0.05 if 14 <= at - t0 < 20 else 0.005, time_s=at)
    history.add({"type": "fault", "id": "f1", "fault": "partition", "event": "start",
                 "targets": ["worker1"], "time": t0 + 10})
    history.add({"type": "fault", "id": "f1", "fault": "partition", "event": "end",
                 "targets": ["worker1"], "time": t0 + 20})
    for r in history.ops("send", OK):
        if r["value"] != "v5":
            history.op("read", r["value"], OK, time_s=t0 + 40)
    history.op("read", "v7", OK, time_s=t0 + 41)
    return history


def test_checkers_find_what_the_history_holds(tmp_path):
    path = str(tmp_path / "history.jsonl")
    written = make_history(path)
    written.close()
    history = History.load(path)
    assert len(history.records) == len(written.records)

    durability = checkers.lost_and_duplicates(history)
    assert durability == {"valid": False, "acknowledged": 260, "read": 260, "lost": 1,
                          "lost_examples": ["v5"], "duplicates": 1, "read_not_acknowledged": 0}

    available = checkers.availability(history)
    [fault] = available["per_fault"]
    assert fault["fault"] == "partition worker1" and fault["duration_s"] == 10.0
    assert (fault["longest_unavailable_s"], fault["unavailable_from_s"]) == (4.0, 0.0)
    assert (available["longest_unavailable_s"], available["longest_unavailable_at_s"]) == (4.1, 9.9)

    phases = {p["phase"]: p for p in checkers.latency_phases(history)}
    assert list(phases) == ["before partition worker1", "during partition worker1",
                            "after partition worker1"]
    assert phases["before partition worker1"]["latency_ms"]["p99"] == 5.0
    assert phases["during partition worker1"]["latency_ms"]["p50"] == 50.0
    assert phases["during partition worker1"]["latency_ms"]["count"] == 60
    assert phases["during partition worker1"]["throughput_per_s"] == 6.0
    assert phases["after partition worker1"]["latency_ms"]["p99"] == 5.0


def test_plot_shows_rates_latency_and_the_fault(tmp_path):
    history = make_history()
    path = plot_history(history, str(tmp_path / "history.png"), "known history", f="send")
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert (width, height) == (1100, 650)
    # the fault from 10 s to 20 s of the 30 s axis: a band a third of the plot area wide
    [(label, first, width)] = check_fault_shading(Image.open(path), history, "send")
    left, right = plot_area(Image.open(path))
    assert label == "partition worker1" and abs(width - (right - left) / 3) <= 3, (first, width)
    # the check reads the band from the pixels: a fault 5 s later than the one drawn fails it
    moved = History()
    moved.records = [{**r, "time": r["time"] + 5} if r["type"] == "fault" else r for r in history.records]
    with pytest.raises(AssertionError, match="partition worker1: shaded from x="):
        check_fault_shading(Image.open(path), moved, "send")
