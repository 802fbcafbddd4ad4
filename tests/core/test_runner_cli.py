"""`invoke test` end to end, as a user runs it: scenarios, failures, timeouts, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from support import REPO, run_cli, write_cluster_file

SCENARIOS = os.path.join(REPO, "tests", "scenarios")


def session(results_dir) -> str:
    return os.path.realpath(os.path.join(results_dir, "latest"))


def report(results_dir) -> dict:
    with open(os.path.join(session(results_dir), "report.json")) as f:
        return json.load(f)


def assert_no_process(marker: str) -> None:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    found = [p for p in found if int(p) != os.getpid()]
    assert not found, f"processes left running with {marker!r}: {found}"


def assert_one_line_error(proc, *parts, results_dir=None):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    for part in parts:
        assert part in lines[0]
    if results_dir is not None:
        assert not os.path.exists(results_dir), "bad input must not write results"


def test_sample_scenario_on_localhost(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("ducttape: 1 test on the localhost cluster (8 nodes)")
    assert "[1/1] sample_services::SampleServicesTest.test_bounce ... PASS" in proc.stdout
    doc = report(results)
    assert doc["summary"] == {"PASS": 1, "total": 1}
    test = doc["tests"][0]
    assert test["data"]["bounced"] == "node2" and test["nodes"] == ["node1", "node2", "node3"]
    folder = os.path.join(session(results), test["folder"])
    with open(os.path.join(folder, "data.json")) as f:
        data = json.load(f)
    assert data == test["data"] and data["start_3_nodes"]["unit"] == "s"
    assert 0 < data["bounce_1_node"]["value"] < 30
    for node in ("node1", "node2", "node3"):
        log = os.path.join(folder, "TickerService-1", node, "service.log")
        assert "ready" in open(log).read()
    debug = open(os.path.join(folder, "test_log.debug")).read()
    assert "[SampleServicesTest]" not in debug and "ducttape.test.SampleServicesTest" in debug
    assert "DEBUG" in debug and "INFO" in open(os.path.join(folder, "test_log.info")).read()
    for name in ("report.txt", "report.html", "junit.xml"):
        assert os.path.getsize(os.path.join(session(results), name)) > 0


def test_session_records_the_build_manifest(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    entry = {"name": "kafka", "kind": "released", "version": "4.1.1", "built_at": "2026-11-28T04:00:00Z"}
    (build / "manifest.json").write_text(json.dumps({"format": 1, "projects": {"kafka": entry}}))
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--results-dir", str(results), env={"DUCTTAPE_BUILD_DIR": str(build)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(os.path.join(session(results), "build-manifest.json")) as f:
        assert json.load(f) == {"kafka": entry}
    assert report(results)["build_manifest"] == {"kafka": entry}


@pytest.mark.ssh
def test_sample_scenario_on_a_json_cluster_over_ssh(tmp_path, sshd):
    cluster_file = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch")
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--cluster", f"json:{cluster_file}", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # (a "sync: ..." line comes first when there is a local build to bring to the nodes)
    header = [ln for ln in proc.stdout.splitlines() if not ln.startswith("sync: ")][0]
    assert f"cluster in {cluster_file} (3 nodes)" in header
    test = report(results)["tests"][0]
    assert test["status"] == "PASS" and test["nodes"] == ["host1", "host2", "host3"]
    log = os.path.join(session(results), test["folder"], "TickerService-1", "host2", "service.log")
    assert open(log).read().count("ready") == 2  # started, then bounced


@pytest.mark.ssh
def test_report_gives_teardown_seconds_covering_log_collection_and_the_folders_bytes(tmp_path, sshd):
    # ducktape_flags' Logs test leaves its service running: the teardown stops it and, with
    # --logs always, copies both its logs over SFTP
    cluster_file = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch", n=1)
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(REPO, "tests", "scenarios", "ducktape_flags.py"), "--tags", "logs",
                   "--logs", "always", "--cluster", f"json:{cluster_file}", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    test = report(results)["tests"][0]
    assert 0 < test["collect_seconds"] <= test["teardown_seconds"] < test["duration"], test
    folder = os.path.join(session(results), test["folder"])
    logs = [os.path.join(folder, "Sleeper-1", "host1", name) for name in ("extra.log", "service.log")]
    body_ended = test["started"] + test["duration"] - test["teardown_seconds"]
    for log in logs:  # each copied after the body ended, within the teardown
        assert body_ended <= os.stat(log).st_ctime <= test["started"] + test["duration"], (log, test)
    sizes = subprocess.run(["find", folder, "-type", "f", "-printf", "%s\\n"], capture_output=True, text=True,
                           check=True, timeout=60).stdout.split()
    assert test["result_bytes"] == sum(map(int, sizes)) > sum(os.path.getsize(log) for log in logs) >= 2400
    html = open(os.path.join(session(results), "report.html")).read()
    assert f"teardown: {test['teardown_seconds']:.1f}s" in html


def test_python_dash_m_runs_a_scenario(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ducttape.tests.sample_services", "--results-dir",
                           str(tmp_path / "r"), "--cluster", "localhost:3"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report(tmp_path / "r")["summary"]["PASS"] == 1


def test_failing_remote_command_fails_the_test_loudly(tmp_path):
    marker = f"ducttape-marker-{uuid.uuid4().hex[:8]}"
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "failing.py"), "--results-dir", str(results),
                   env={"DUCTTAPE_TEST_MARKER": marker})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for text in (proc.stdout, open(os.path.join(session(results), "report.txt")).read()):
        assert "FAIL" in text
        for part in ("on node1", "exit 3", "exited 3", "disk on fire"):
            assert part in text, (part, text)
    test = report(results)["tests"][0]
    assert test["status"] == "FAIL" and "exited 3" in test["error"]
    case = ET.parse(os.path.join(session(results), "junit.xml")).getroot().find("testcase")
    assert "exited 3" in case.find("failure").get("message")
    assert "disk on fire" in proc.stdout.split("\n\n")[0]
    # the service's log was collected even though the test failed
    assert os.path.isdir(os.path.join(session(results), test["folder"], "SleeperService-1", "node2"))
    assert_no_process(marker)


def test_hanging_test_hits_the_timeout_and_the_next_one_runs(tmp_path):
    marker = f"ducttape-marker-{uuid.uuid4().hex[:8]}"
    results = tmp_path / "results"
    start = time.monotonic()
    proc = run_cli("test", os.path.join(SCENARIOS, "hanging.py"), "--timeout", "3",
                   "--results-dir", str(results), env={"DUCTTAPE_TEST_MARKER": marker})
    assert time.monotonic() - start < 60
    assert proc.returncode == 1, proc.stdout + proc.stderr
    tests = report(results)["tests"]
    assert [(t["test_id"], t["status"]) for t in tests] == [
        ("hanging::HangingTest.test_hangs", "FAIL"), ("hanging::AfterTest.test_runs_next", "PASS")]
    assert "timed out after 3s" in tests[0]["error"]
    assert_no_process(marker)


def interrupt_hanging_run(results, *options) -> tuple[subprocess.CompletedProcess, str]:
    """Run the hanging scenario, press Ctrl-C once its service runs; return the run and marker."""
    marker = f"ducttape-marker-{uuid.uuid4().hex[:8]}"
    args = [sys.executable, "-m", "invoke", "test", os.path.join(SCENARIOS, "hanging.py"),
            "--results-dir", str(results), *options]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "DUCTTAPE_TEST_MARKER": marker})
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, "the hanging test never started its service"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(args, proc.returncode, out, err), marker


def test_ctrl_c_stops_cleanly(tmp_path):
    proc, marker = interrupt_hanging_run(tmp_path / "results")
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    doc = report(tmp_path / "results")
    assert doc["interrupted"] is True and [t["status"] for t in doc["tests"]] == ["FAIL"]
    assert "interrupted" in doc["tests"][0]["error"]
    # where the test was when it was stopped
    with open(os.path.join(SCENARIOS, "hanging.py")) as f:
        line = next(n for n, text in enumerate(f, 1) if "threading.Event().wait()" in text)
    assert f"interrupted (Ctrl-C) in hanging.py:{line} test_hangs:" in doc["tests"][0]["error"]
    assert "thread MainThread:" in doc["tests"][0]["details"]
    assert_no_process(marker)


@pytest.mark.parametrize("args, parts", [
    (["no_such_scenario"], ["unknown test 'no_such_scenario'", "sample_services"]),
    (["sample_services::Nope"], ["no test 'sample_services::Nope'", "SampleServicesTest.test_bounce"]),
    (["sample_services", "--cluster", "localhost:2"],
     ["needs 3 nodes but the localhost cluster (2 nodes) has 2", "--cluster localhost:3"]),
    (["sample_services", "--cluster", "mars"], ["unknown cluster 'mars'"]),
    (["--help"], ["needs a test name before --help", "invoke --help test"]),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, parts):
    results = tmp_path / "results"
    assert_one_line_error(run_cli("test", *args, "--results-dir", str(results)), *parts, results_dir=results)


def test_malformed_cluster_file(tmp_path):
    bad = tmp_path / "cluster.json"
    bad.write_text('{"nodes": [{"hostname": "127.0.0.1", "prot": 22}]}')
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--cluster", f"json:{bad}", "--results-dir", str(results))
    assert_one_line_error(proc, str(bad), "unknown key 'prot'", results_dir=results)


@pytest.mark.ssh
def test_unreachable_host(tmp_path, sshd):
    cluster_file = write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch")
    doc = json.load(open(cluster_file))
    doc["nodes"][2]["port"] = 1
    json.dump(doc, open(cluster_file, "w"))
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--cluster", f"json:{cluster_file}", "--results-dir", str(results))
    assert_one_line_error(proc, "cannot connect to node host3 at root@127.0.0.1:1", results_dir=results)


def test_task_list():
    proc = run_cli("--list")
    assert proc.returncode == 0 and "test" in proc.stdout


def test_session_params_reach_tests_and_reports(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "session_params.py"),
                   "--param", "size=seed", "--param", "repeats=3", "--param", 'loads=[25, 50]',
                   "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = report(results)
    expected = {"size": "seed", "repeats": 3, "loads": [25, 50]}
    assert doc["params"] == expected and doc["tests"][0]["data"]["params"] == expected
    with open(os.path.join(session(results), "report.txt")) as f:
        assert "params:   size=seed repeats=3 loads=[25, 50]" in f.read()


def test_a_param_without_equals_is_one_line(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", "sample_services", "--param", "size", "--results-dir", str(results))
    assert_one_line_error(proc, "--param 'size' is not key=value", results_dir=results)


@pytest.mark.parametrize("flag, value, parts", [
    ("--timeout", "abc", ["--timeout 'abc' is not a number of seconds above 0"]),
    ("--timeout", "0", ["--timeout '0' is not a number of seconds above 0"]),
    ("--timeout", "-5", ["--timeout '-5'"]),
    ("--timeout", "nan", ["--timeout 'nan'"]),
    ("--max-parallel", "0", ["--max-parallel '0' is not a whole number from 1"]),
    ("--max-parallel", "two", ["--max-parallel 'two'"]),
    ("--retries", "-1", ["--retries '-1' is not a whole number from 0"]),
    ("--retries", "1.5", ["--retries '1.5'"]),
    ("--params", "/nonexistent/params.json", ["--params file /nonexistent/params.json does not exist"]),
    ("--cluster", "localhost:0", ["N in localhost:N is a number from 1 to 254"]),
    ("--cluster", "json", ["json needs a file"]),
])
def test_every_bad_flag_value_is_one_line(tmp_path, flag, value, parts):
    results = tmp_path / "results"
    assert_one_line_error(run_cli("test", "sample_services", flag, value, "--results-dir", str(results)),
                          *parts, results_dir=results)


@pytest.mark.parametrize("text, part", [
    ("[1, 2]", "expected a JSON object"),
    ("{size: seed}", "is not valid JSON"),
])
def test_a_bad_params_file_is_one_line(tmp_path, text, part):
    params = tmp_path / "params.json"
    params.write_text(text)
    results = tmp_path / "results"
    assert_one_line_error(run_cli("test", "sample_services", "--params", str(params), "--results-dir",
                                  str(results)), f"--params file {params}", part, results_dir=results)


def test_params_file_and_params_reach_tests_and_reports(tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"size": "seed", "loads": [25, 50], "nested": {"a": 1}}))
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "session_params.py"), "--params", str(params),
                   "--param", "size=small", "--results-dir", str(results))  # --param wins over the file
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = report(results)
    expected = {"size": "small", "loads": [25, 50], "nested": {"a": 1}}
    assert doc["params"] == expected and doc["tests"][0]["data"] == {"params": expected, "context": expected}
