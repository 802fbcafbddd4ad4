"""Failures that explain themselves: broken scenarios whose console line, report.txt,
report.html and junit.xml say the cause, the ports, where the test was and which log to read;
junit.xml per Surefire's schema; the builds and versions a session's tests used."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import textwrap
import xml.etree.ElementTree as ET

import pytest

from support import REPO, free_port, run_cli

SCENARIOS = os.path.join(REPO, "tests", "scenarios")
SCHEMAS = os.path.join(REPO, "tests", "core", "schemas")


def session(results) -> str:
    return os.path.realpath(os.path.join(results, "latest"))


def line_of(path: str, marker: str) -> int:
    """The line number of the line of ``path`` that holds ``marker``."""
    with open(path) as f:
        return next(n for n, line in enumerate(f, 1) if marker in line)


def reports(results) -> dict[str, str]:
    """Each failed test's text as every report carries it: report.txt (whole), report.html
    (unescaped), junit.xml (failure message and text)."""
    folder = session(results)
    junit = ET.parse(os.path.join(folder, "junit.xml")).getroot()
    failures = " ".join(f"{f.get('message')} {f.text}" for f in junit.iter("failure"))
    return {"report.txt": open(os.path.join(folder, "report.txt")).read(),
            "report.html": html.unescape(open(os.path.join(folder, "report.html")).read()),
            "junit.xml": failures}


def validate_junit(path: str) -> None:
    """Validate ``path`` against Maven Surefire's XSD with the JDK's validator."""
    proc = subprocess.run(["java", os.path.join(SCHEMAS, "XsdValidate.java"),
                           os.path.join(SCHEMAS, "surefire-test-report.xsd"), path],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_broken_scenarios_say_why_where_and_which_log(tmp_path):
    results = tmp_path / "results"
    port = free_port()
    proc = run_cli("test", os.path.join(SCENARIOS, "broken.py"), "--timeout", "4",
                   "--results-dir", str(results), env={"DUCTTAPE_BROKEN_PORT": str(port)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    scenario = os.path.join(SCENARIOS, "broken.py")
    lines = {m["test"]: m["error"] for m in re.finditer(
        r"broken::BrokenTest\.(?P<test>\w+) \.\.\. FAIL \([\d.]+s\)\n    (?P<error>.*)", proc.stdout)}
    assert len(lines) == 5, proc.stdout
    start = line_of(scenario, "self.wait_for_http(node, self.ready_port")
    expected = {
        # the cause line from the log, not the usage text after it, and the log's copy
        "test_mistyped_flag": ["exited while waiting for", "cause: flag provided but not defined: "
                               "-listen-client-url;", f"(broken.py:{start} start_node)"],
        # the ports the process does listen on
        "test_wrong_readiness_port": ["/health did not answer within 2s",
                                      f"the process listens on TCP {port}, {port + 1};",
                                      f"(broken.py:{start} start_node)"],
        # where the test was, and the command in flight on which node and for how long
        "test_remote_hang": [f"timed out after 4s in broken.py:{line_of(scenario, 'HANGS IN A REMOTE')} "
                             f"test_remote_hang, waiting on node1: `python3 ",
                             "fake_ctl.py endpoint status` ("],
        "test_python_hang": [f"timed out after 4s in broken.py:{line_of(scenario, 'HANGS IN PYTHON')} "
                             "wait_for_leader"],
        "test_exception": [f"KeyError: 'leader' (broken.py:{line_of(scenario, 'RAISES')} test_exception)"],
    }
    texts = reports(results)
    for test, parts in expected.items():
        for part in parts:
            assert part in lines[test], (test, part, lines[test])
            for name, text in texts.items():
                assert part in text, (name, test, part)
    # the log named in a failed start is the copy in the results, and it exists
    for test in ("test_mistyped_flag", "test_wrong_readiness_port"):
        log = re.search(r"; log: (\S+service\.log)", lines[test])[1]
        assert log.startswith(session(results)) and os.path.isfile(log), lines[test]
        for text in texts.values():
            assert log in text
    with open(re.search(r"; log: (\S+)", lines["test_mistyped_flag"])[1]) as f:
        assert f.readline() == "flag provided but not defined: -listen-client-url\n"
    # the whole dump (every thread's stack, the commands in flight) is in the test's folder
    folder = os.path.join(session(results), "broken.BrokenTest.test_remote_hang")
    with open(os.path.join(folder, "where.txt")) as f:
        dump = f.read()
    assert "commands in flight, oldest first:\n  node1: `python3 " in dump
    assert "thread MainThread:" in dump and "node.account.ssh(" in dump
    assert "thread MainThread:" in texts["report.txt"] and "thread MainThread:" in texts["junit.xml"]
    validate_junit(os.path.join(session(results), "junit.xml"))


FIGURES_AND_FLAKES = '''
import os

from ducttape.runner import Test, cluster

STATE = os.environ["DUCTTAPE_FLAKY_STATE"]


class ShowsTest(Test):
    @cluster(num_nodes=1)
    def test_figures(self):
        self.show("verdict: all good")
        return {"latency": {"value": 12.5, "unit": "ms"}, "rate": {"value": 900, "unit": "records/s"},
                "count": 3, "leader": "node1"}


class FlakyTest(Test):
    @cluster(num_nodes=1)
    def test_second_time_lucky(self):
        first = not os.path.exists(STATE)
        open(STATE, "a").close()
        assert not first, "fails the first time"

    @cluster(num_nodes=1)
    def test_always_fails(self):
        assert False, "never passes"
'''


def test_junit_and_report_txt_carry_figures_show_text_and_flaky_attempts(tmp_path):
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_shows.py").write_text(FIGURES_AND_FLAKES)
    results = tmp_path / "results"
    proc = run_cli("test", str(tmp_path / "suite"), "--retries", "1", "--results-dir", str(results),
                   env={"DUCTTAPE_FLAKY_STATE": str(tmp_path / "state")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    junit = os.path.join(session(results), "junit.xml")
    validate_junit(junit)
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "0")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    key = "test_shows.ShowsTest.test_figures"
    assert props[f"{key} figure latency"] == "12.5 ms, lower is better"
    assert props[f"{key} figure rate"] == "900 records/s, higher is better"
    assert props[f"{key} figure count"] == "3"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", props[f"{key} started"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", props["timestamp"])
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    out = cases["test_figures"].find("system-out").text
    assert "verdict: all good" in out and "leader: node1" in out
    assert re.search(r"latency +12\.5 +ms +lower", out), out
    lucky = cases["test_second_time_lucky"]
    assert lucky.find("failure") is None
    flaky = lucky.findall("flakyFailure")
    assert len(flaky) == 1 and "fails the first time (test_shows.py:" in flaky[0].get("message")
    assert "AssertionError: fails the first time" in flaky[0].find("stackTrace").text
    assert cases["test_always_fails"].find("failure") is not None
    text = open(os.path.join(session(results), "report.txt")).read()
    section = text.split("--- test_shows::ShowsTest.test_figures: PASS\n", 1)[1].split("\n\n")[0]
    assert section.splitlines()[:2] == ["figure    value    unit       better",
                                        "--------  -------  ---------  --------"], section
    assert "latency   12.5     ms         lower" in section and "leader: node1" in section
    assert "verdict: all good" in section
    assert "attempt 1 (attempt-1): FAIL AssertionError: fails the first time" in text


BUILDS = '''
from ducttape.runner import Test, cluster
from ducttape.services import Service


class UsesKafka(Service):
    builds = ("kafka",)

    def start_node(self, node):
        self.spawn(node, "sleep 60")


class BuildsTest(Test):
    @cluster(num_nodes=1)
    def test_uses_kafka(self):
        UsesKafka(self.cluster).start()
        return {"took": {"value": 1.0, "unit": "s"}}

    @cluster(num_nodes=1)
    def test_installs_etcd(self):
        self.context.record_version("etcd", "3.4.23")
        return {"took": {"value": 2.0, "unit": "s"}}
'''


def test_a_session_names_only_the_builds_its_tests_used(tmp_path):
    from ducttape.runner.history import all_series, load_sessions
    build = tmp_path / "build"
    build.mkdir()
    projects = {name: {"name": name, "kind": "released", "version": version, "status": "ok"}
                for name, version in (("kafka", "4.1.1"), ("zookeeper", "3.9.5"))}
    (build / "manifest.json").write_text(json.dumps({"format": 1, "projects": projects}))
    (tmp_path / "builds.py").write_text(BUILDS)
    results = tmp_path / "results"
    proc = run_cli("test", str(tmp_path / "builds.py"), "--results-dir", str(results),
                   env={"DUCTTAPE_BUILD_DIR": str(build)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(os.path.join(session(results), "report.json")) as f:
        doc = json.load(f)
    assert doc["build"] == "kafka 4.1.1, etcd 3.4.23"
    assert doc["build_manifest"] == projects, "the whole manifest stays in the session"
    tests = {t["method"]: t for t in doc["tests"]}
    assert tests["test_uses_kafka"]["builds"] == ["kafka"] and tests["test_uses_kafka"]["versions"] == {}
    assert tests["test_installs_etcd"]["builds"] == [] and tests["test_installs_etcd"]["versions"] == {
        "etcd": "3.4.23"}
    assert "builds:   kafka 4.1.1, etcd 3.4.23\n" in open(os.path.join(session(results), "report.txt")).read()
    assert "build: kafka 4.1.1, etcd 3.4.23" in open(os.path.join(session(results), "report.html")).read()
    with open(results / "index.json") as f:
        assert json.load(f)["sessions"][0]["build"] == "kafka 4.1.1, etcd 3.4.23"
    labels = {s.test_id.split(".")[-1]: s.points[0].build for s in all_series(load_sessions(str(results)))}
    assert labels == {"test_uses_kafka": "kafka 4.1.1", "test_installs_etcd": "etcd 3.4.23"}


def test_where_names_the_command_in_flight_and_the_scenario_frame(tmp_path):
    """In one process: a thread in a scenario's code, blocked in a command on a node."""
    import threading
    import time

    from ducttape.remote import LocalAccount
    from ducttape.runner import where
    scenario = tmp_path / "scenario.py"
    scenario.write_text(textwrap.dedent('''
        def check(account):
            account.ssh("sleep 5 && echo checked", timeout=30)  # IN FLIGHT
    '''))
    namespace: dict = {}
    exec(compile(scenario.read_text(), str(scenario), "exec"), namespace)
    account = LocalAccount("node7")
    worker = threading.Thread(target=namespace["check"], args=(account,), name="checker", daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while "node7" not in where.describe(str(scenario)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    text = where.describe(str(scenario))
    headline = text.splitlines()[0]
    assert re.fullmatch(rf"in scenario\.py:{line_of(scenario, 'IN FLIGHT')} check, waiting on node7: "
                        r"`sleep 5 && echo checked` \(\d+\.\ds\)", headline), headline
    assert "thread checker:" in text and "(thread checker)" in text
    worker.join(timeout=30)
    assert "no command in flight" in where.describe(str(scenario))
