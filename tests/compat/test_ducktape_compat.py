"""ducktape-style tests (tests/compat/dtsample, written like kafkatest) run by ducttape's runner
through the compat layer, mixed with a ducttape module in one session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from support import REPO, run_cli

SUITE = os.path.join(REPO, "tests", "compat", "dtsample")
SAMPLE = os.path.join(SUITE, "sample_test.py")


def report(results) -> dict:
    with open(os.path.join(results, "latest", "report.json")) as f:
        return json.load(f)


def test_a_ducktape_suite_and_a_ducttape_module_in_one_session(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", SUITE, "--globals", '{"greeting": "hello"}', "--results-dir", str(results))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # test_fails fails on purpose
    tests = {t["test_id"]: t for t in report(results)["tests"]}
    assert {i: t["status"] for i, t in tests.items()} == {
        "dtsample.sample_test.SampleTest.test_services.count=3.nodes=1": "PASS",
        "dtsample.sample_test.SampleTest.test_services.count=2.nodes=2": "PASS",
        # count=5 is @ignore'd
        "dtsample.sample_test.SampleTest.test_fails": "FAIL",
        "dtsample.test_setup_order.SetupTeardownTest.test_teardown_order": "PASS",
        "test_native::NativeTest.test_native": "PASS",
    }, proc.stdout
    assert "ignored (@ignore/@env): dtsample.sample_test.SampleTest.test_services.count=5.nodes=1" in proc.stdout
    assert "this test fails on purpose" in tests["dtsample.sample_test.SampleTest.test_fails"]["error"]
    assert tests["test_native::NativeTest.test_native"]["data"] == {"echo": "native"}
    # @cluster covers the cases generated below it: the matrix's cases got 2 nodes, the other 3
    assert len(tests["dtsample.sample_test.SampleTest.test_services.count=3.nodes=1"]["nodes"]) == 2
    assert len(tests["dtsample.sample_test.SampleTest.test_services.count=2.nodes=2"]["nodes"]) == 3
    session = os.path.realpath(results / "latest")
    order = tests["dtsample.test_setup_order.SetupTeardownTest.test_teardown_order"]
    folder = os.path.join(session, order["folder"])
    # start() stops each node first (ducktape's precaution); after teardown() the runner stops
    # the services newest first and collects every declared log of each from its node
    with open(os.path.join(folder, "scratch", "order")) as f:
        assert f.read().split("\n") == ["stop TickerService-1", "stop TickerService-2", "teardown",
                                         "stop TickerService-2", "stop TickerService-1", ""]
    for service, node in (("TickerService-1", order["nodes"][0]), ("TickerService-2", order["nodes"][1])):
        with open(os.path.join(folder, service, node, "ticker.log")) as f:
            assert "started" in f.readline()
        # ducktape's rule after a pass: only the logs with collect_default (not the config)
        assert not os.path.exists(os.path.join(folder, service, node, "ticker.properties"))
    failed = os.path.join(session, tests["dtsample.sample_test.SampleTest.test_fails"]["folder"])
    assert [f for _, _, files in os.walk(failed) for f in files if f == "ticker.properties"]
    # the processes the services started are gone, their files cleaned
    left = subprocess.run(["pgrep", "-f", "dtsample-ticker"], capture_output=True, text=True).stdout
    assert left == ""
    assert not [p for p in os.listdir("/tmp") if p.startswith("dtsample-")]
    with open(os.path.join(session, "rerun-failed")) as f:
        assert f.read().split() == [f"{SAMPLE}::SampleTest.test_fails"]


def test_one_case_by_its_selector(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", f"{SAMPLE}::SampleTest.test_services[count=2,nodes=2]", "--param",
                   "greeting=hi", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [test] = report(results)["tests"]
    assert test["test_id"] == "dtsample.sample_test.SampleTest.test_services.count=2.nodes=2"
    assert test["data"] == {"count": 2}


def test_bad_globals_is_one_line(tmp_path):
    for value, part in (("[1]", "expected a JSON object"), ("{nope", "neither a JSON object nor a file")):
        proc = run_cli("test", SUITE, "--globals", value, "--results-dir", str(tmp_path / "r"))
        assert proc.returncode == 2 and part in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def test_ducktape_names_exist_only_through_the_hook():
    code = (
        "import importlib.util, sys\n"
        "import ducttape.runner.discovery as d\n"
        "assert importlib.util.find_spec('ducktape') is None\n"
        f"specs = d.discover({SAMPLE!r})\n"
        "import ducktape.mark.resource, ducttape.compat.ducktape.mark.resource as ours\n"
        "assert ducktape.mark.resource is ours and ducktape.mark.resource.__spec__.name == ours.__name__\n"
        "print(len(specs))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "4", proc.stderr  # the @ignore'd case too


def test_marks_stack_as_ducktape_documents():
    from ducttape.compat.ducktape.mark import defaults, expand, ignore, matrix, parametrize
    from ducttape.compat.ducktape.mark.resource import cluster

    @ignore(x=4, y="a")
    @cluster(num_nodes=100)
    @parametrize(x=1)
    @cluster(num_nodes=200)
    @parametrize(x=2)
    @matrix(x=[3, 4], y=["a"])
    def the_test(x, y=None):
        pass

    cases = expand(the_test)
    assert [(c.args, c.num_nodes(), c.ignored) for c in cases] == [
        ({"x": 1}, 100, False), ({"x": 2}, 200, False), ({"x": 4, "y": "a"}, 200, True),
        ({"x": 3, "y": "a"}, 200, False)]  # @matrix puts its cases in front, last first

    @defaults(z=[1, 2])
    @matrix(x=[1], y=[1, 2])
    @parametrize(x=3, y=4, z=999)
    def with_defaults(x, y, z):
        pass

    assert sorted(tuple(c.args.items()) for c in expand(with_defaults)) == sorted([
        (("x", 3), ("y", 4), ("z", 999)), *((("z", z), ("x", 1), ("y", y)) for z in (1, 2) for y in (1, 2))])

    @cluster(num_nodes=2)
    def plain():
        pass

    assert [(c.args, c.num_nodes(), c.ignored) for c in expand(plain)] == [(None, 2, False)]

    @ignore
    @cluster(num_nodes=2)
    def ignored():
        pass

    assert [c.ignored for c in expand(ignored)] == [True]

    @cluster(num_nodes=2)
    @parametrize(x=1)
    @ignore(x=1)
    def ignore_below_its_cases():
        pass

    with pytest.raises(ValueError, match="@ignore is applied to no test case"):
        expand(ignore_below_its_cases)


def ducktape_package(folder, module: str, source: str):
    """A package ``folder`` holding the ducktape-style test module ``module`` (``source``)."""
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / module).write_text(source)
    return folder


def test_a_misplaced_mark_is_one_line(tmp_path):
    package = ducktape_package(
        tmp_path / "badmarks", "bad_test.py",
        "from ducktape.mark import parametrize\n"
        "from ducktape.mark.resource import cluster\n"
        "from ducktape.tests.test import Test\n\n\n"
        "class BadTest(Test):\n"
        "    @parametrize(x=1)\n"
        "    @cluster(num_nodes=1)\n"
        "    def test_it(self, x):\n"
        "        pass\n")
    proc = run_cli("test", str(package), "--collect-only")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "BadTest.test_it: @cluster is applied to no test case" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


MARKS = os.path.join(REPO, "tests", "compat", "dtmarks", "test_marks.py")


def test_marks_and_cluster_specs_as_kafkatest_uses_them(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", MARKS, "--cluster", "localhost:1,broker=2", "--jvm-logs",
                   "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # @defaults puts its arguments before the case's, as ducktape does
    tests = {t["test_id"].split("MarksTest.")[1]: t
             for t in report(results)["tests"]}
    assert {k: t["status"] for k, t in tests.items()} == {
        "test_needs_no_nodes": "PASS", "test_empty_spec": "PASS", "test_typed": "PASS",
        "test_defaults.size=1.kind=a": "PASS", "test_defaults.size=2.kind=a": "PASS", "test_java": "PASS"}
    assert tests["test_needs_no_nodes"]["nodes"] == []
    typed = tests["test_typed"]
    assert typed["data"] == {"brokers": ["node2", "node3"], "other": ["node1"]}
    folder = os.path.join(results, "latest", typed["folder"])
    assert sorted(os.listdir(os.path.join(folder, "NoteService-1", "node2"))) == ["notes.log"]
    assert sorted(os.listdir(os.path.join(folder, "NoteService-2", "node1"))) == ["debug.log", "notes.log"]
    java = os.path.join(results, "latest", tests["test_java"]["folder"], "jvm-logs")
    logs = [f for _, _, files in os.walk(java) for f in files]
    assert any(f.startswith("gc-") for f in logs) and any(f.startswith("safepoint-") for f in logs), logs


def test_a_service_that_fails_to_stop_is_a_warning_as_in_ducktape(tmp_path):
    package = ducktape_package(
        tmp_path / "stopfails", "stop_test.py",
        "from ducktape.mark.resource import cluster\n"
        "from ducktape.services.service import Service\n"
        "from ducktape.tests.test import Test\n\n\n"
        "class Stubborn(Service):\n"
        "    def start_node(self, node):\n"
        "        pass\n\n"
        "    def stop_node(self, node):\n"
        "        raise RuntimeError('stop failed on purpose')\n\n"
        "    def clean_node(self, node):\n"
        "        pass\n\n\n"
        "class StopTest(Test):\n"
        "    @cluster(num_nodes=1)\n"
        "    def test_it(self):\n"
        "        Stubborn(self.test_context, 1).start()\n")
    results = tmp_path / "results"
    proc = run_cli("test", str(package), "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [test] = report(results)["tests"]
    assert test["status"] == "PASS"
    with open(os.path.join(results, "latest", test["folder"], "test_log.info")) as f:
        assert "Stubborn-1: stop failed: stop failed on purpose" in f.read()


@pytest.mark.ssh
def test_ssh_client_gives_the_nodes_transport(json_cluster_file):
    """kafkatest's HTTP metrics collector forwards a node's port over ``ssh_client.get_transport()``."""
    from ducttape.cluster import load_cluster
    from ducttape.compat.ducktape.cluster.cluster import ClusterNode

    cluster = load_cluster(f"json:{json_cluster_file}")
    try:
        node = ClusterNode(cluster.nodes[0])
        transport = node.account.ssh_client.get_transport()
        assert transport.is_active()
        channel = transport.open_session(timeout=30)
        channel.settimeout(30)
        channel.exec_command("echo $SSH_CONNECTION")
        assert channel.makefile().read().split()  # a real SSH session on that transport
        channel.close()
    finally:
        cluster.close()


def test_the_test_cluster_counts_the_free_nodes(tmp_path):
    """ducktape's TestCluster.num_available_nodes() and available() follow the ducttape
    cluster's free nodes as they are taken and given back."""
    from ducttape.cluster.localhost import LocalhostCluster
    from ducttape.compat.ducktape.cluster.cluster import TestCluster

    cluster = TestCluster(LocalhostCluster(3, scratch_root=str(tmp_path)))
    taken = cluster.request(1)
    assert cluster.num_available_nodes() == 2 and cluster.available().size() == 2
    cluster.free(taken)
    assert cluster.num_available_nodes() == 3


@pytest.mark.ssh
def test_a_lone_captured_command_is_the_process_ps_shows(json_cluster_file):
    """kafkatest ends processes by name (``kill_process("iperf")`` greps ``ps ax``): a command
    run with its stderr combined takes its shell's place, as under ducktape, so no shell holding
    the command's text is there to match (network_degrade_test's ``iperf -s``)."""
    from ducttape.cluster import load_cluster
    from ducttape.compat.ducktape.cluster.cluster import ClusterNode

    cluster = load_cluster(f"json:{json_cluster_file}")
    try:
        account = ClusterNode(cluster.nodes[0]).account
        assert b"No such file" in account.ssh_output("ls /no-such-file-here", allow_fail=True)  # stderr combined
        lines = account.ssh_capture("sleep 31.41", allow_fail=True)
        found = []
        for _ in range(100):
            found = [a for a in subprocess.run(["ps", "ax", "-o", "args="], capture_output=True,
                                               text=True).stdout.splitlines() if "31.41" in a]
            if found == ["sleep 31.41"]:  # (the shell shows for an instant, until it execs)
                break
            time.sleep(0.1)
        assert found == ["sleep 31.41"], found
        subprocess.run(["pkill", "-f", "^sleep 31.41$"])
        list(lines)
    finally:
        cluster.close()
