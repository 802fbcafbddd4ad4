"""ducktape's command-line flags and marks under `invoke test`, each with a known outcome
(scenario: tests/scenarios/ducktape_flags.py)."""

from __future__ import annotations

import gzip
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from support import REPO, run_cli

SCENARIO = os.path.join(REPO, "tests", "scenarios", "ducktape_flags.py")
NUMBERED = [f"ducktape_flags::Numbered.test_n[n={n}]" for n in range(10)]


def report(results) -> dict:
    with open(os.path.join(results, "latest", "report.json")) as f:
        return json.load(f)


def statuses(results) -> dict:
    return {t["test_id"]: t["status"] for t in report(results)["tests"]}


def run(results, *args, env=None, name=SCENARIO):
    return run_cli("test", name, "--results-dir", str(results), *args, env=env)


def assert_one_line_error(proc, *parts):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]


def listed(proc) -> list[str]:
    """The test ids of a --collect-only table."""
    return re.findall(r"^(ducktape_flags::\S+)", proc.stdout, re.M)


def test_sample_runs_n_of_ten_and_its_seed_repeats_them(tmp_path):
    proc = run(tmp_path / "a", "--tags", "numbered", "--sample", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seed = int(re.search(r"--sample 3 of 10 tests with --seed (\d+)", proc.stdout)[1])
    first = statuses(tmp_path / "a")
    assert len(first) == 3 and set(first) <= set(NUMBERED) and set(first.values()) == {"PASS"}
    assert report(tmp_path / "a")["selection"] == {"tags": "numbered", "sample": 3, "seed": seed}
    again = run(tmp_path / "b", "--tags", "numbered", "--sample", "3", "--seed", str(seed))
    assert again.returncode == 0 and statuses(tmp_path / "b") == first
    other = run(tmp_path / "c", "--tags", "numbered", "--sample", "3", "--seed", str(seed + 1),
                "--collect-only")
    assert other.returncode == 0 and len(listed(other)) == 3


def _durations():
    return {test_id: float(n + 1) for n, test_id in enumerate(NUMBERED)}  # 1 s .. 10 s, 55 s in all


def _halves(results, *extra):
    halves = []
    for k in (0, 1):
        proc = run(results, "--tags", "numbered", "--subsets", "2", "--subset", str(k),
                   "--collect-only", *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        halves.append(listed(proc))
    return halves


def test_subsets_split_by_recorded_durations_into_halves_within_ten_percent(tmp_path):
    results = tmp_path / "results"
    past = results / "2026-01-01--001"  # a recorded session: the results folder's history
    past.mkdir(parents=True)
    tests = [{"test_id": t, "status": "PASS", "duration": d} for t, d in _durations().items()]
    (past / "report.json").write_text(json.dumps({"session_id": past.name, "started": 1, "tests": tests}))
    durations = _durations()
    halves = _halves(results)
    assert sorted(halves[0] + halves[1]) == sorted(NUMBERED) and not set(halves[0]) & set(halves[1])
    sums = [sum(durations[t] for t in half) for half in halves]
    assert abs(sums[0] - sums[1]) <= 0.1 * max(sums), sums
    # ducktape's report format from --historical-report gives the same split
    ducktape_report = tmp_path / "ducktape-report.json"
    ducktape_report.write_text(json.dumps({"results": [
        {"test_id": t, "run_time_seconds": d} for t, d in durations.items()]}))
    assert _halves(tmp_path / "other", "--historical-report", str(ducktape_report)) == halves


def test_exit_first_stops_after_the_first_failure_and_reports_the_rest_not_run(tmp_path):
    proc = run(tmp_path, "--tags", "numbered", "--param", "fail_at=2", "--exit-first")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = statuses(tmp_path)
    assert [found[t] for t in NUMBERED] == ["PASS", "PASS", "FAIL"] + ["NOT-RUN"] * 7
    assert "--exit-first: ducktape_flags::Numbered.test_n[n=2] failed" in proc.stdout
    assert "7 not run" in proc.stdout
    suite = ET.parse(tmp_path / "latest" / "junit.xml").getroot()
    assert suite.get("skipped") == "7" and suite.get("failures") == "1"
    # without the flag every test runs
    proc = run(tmp_path, "--tags", "numbered", "--param", "fail_at=2")
    assert list(statuses(tmp_path).values()).count("PASS") == 9


def test_tags_select_by_expression(tmp_path):
    proc = run(tmp_path, "--tags", "kafka and not slow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(tmp_path) == {"ducktape_flags::Tagged.test_kafka": "PASS"}
    proc = run(tmp_path, "--tags", "(kafka or slow) and not (kafka and slow)", "--collect-only")
    assert listed(proc) == ["ducktape_flags::Tagged.test_kafka", "ducktape_flags::Tagged.test_slow"]


def test_known_failures_and_unexpected_passes_are_reported_and_not_fatal(tmp_path):
    proc = run(tmp_path, "--tags", "known")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(tmp_path) == {"ducktape_flags::Known.test_fails_as_known": "KNOWN-FAIL",
                                  "ducktape_flags::Known.test_passes_now": "UNEXPECTED-PASS"}
    doc = report(tmp_path)
    assert doc["summary"] == {"KNOWN-FAIL": 1, "UNEXPECTED-PASS": 1, "total": 2}
    known = doc["tests"][0]
    assert known["known_failure"] == "https://example.org/issues/1" and known["tags"] == ["known"]
    assert "remove the mark" in doc["tests"][1]["error"]
    suite = ET.parse(tmp_path / "latest" / "junit.xml").getroot()
    assert suite.get("skipped") == "1" and suite.get("failures") == "0"
    skipped = suite.find("testcase[@name='test_fails_as_known']/skipped")
    assert "known failure (https://example.org/issues/1)" in skipped.get("message")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    key = "ducktape_flags.Known.test_fails_as_known"
    assert props[f"{key} tags"] == "known" and props[f"{key} known_failure"] == "https://example.org/issues/1"
    assert props[f"{key} status"] == "KNOWN-FAIL"
    text = (tmp_path / "latest" / "report.txt").read_text()
    assert "known failure: https://example.org/issues/1" in text and "KNOWN-FAIL" in text
    html = (tmp_path / "latest" / "report.html").read_text()
    assert "unexpected passes" in html and "known failure: https://example.org/issues/1" in html
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["sessions"][0]["summary"]["KNOWN-FAIL"] == 1
    assert "known failures" in (tmp_path / "index.html").read_text()


def test_a_test_asking_for_node_types_runs_only_on_nodes_of_those_types(tmp_path):
    proc = run(tmp_path, "--tags", "typed", "--cluster", "localhost:2,broker=2,client=1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    test = report(tmp_path)["tests"][0]
    assert test["nodes"] == ["node3", "node4", "node5"]  # not the untyped node1, node2
    assert test["data"] == {"brokers": ["node3", "node4"], "client": ["node5"],
                            "types": ["broker", "broker", "client"]}
    proc = run(tmp_path / "small", "--tags", "typed", "--cluster", "localhost:4,broker=1,client=1")
    assert_one_line_error(proc, "needs 2 nodes of type broker", "has 1 (types: broker 1, client 1)")


def test_node_types_in_a_cluster_file_are_checked(tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"nodes": [{"hostname": "127.0.0.1", "type": "bro ker"}]}))
    proc = run(tmp_path / "results", "--cluster", f"json:{path}")
    assert_one_line_error(proc, "node 1", '"type"', "is not a name")


def test_collect_num_nodes_prints_the_need_per_type(tmp_path):
    proc = run(tmp_path, "--tags", "typed or wasteful or kafka", "--collect-num-nodes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0] + (" " + line.split()[1] if line.startswith("all") else ""): line.split()[-2:]
            for line in proc.stdout.splitlines() if re.match(r"^(all types|broker|client) ", line)}
    assert rows == {"all types": ["8", "3"], "broker": ["2", "2"], "client": ["1", "1"]}
    assert "4 tests ask for 8 nodes in all" in proc.stdout
    assert not (tmp_path / "latest").exists()


def test_fail_bad_cluster_utilization(tmp_path):
    proc = run(tmp_path, "--tags", "wasteful")
    assert proc.returncode == 0
    proc = run(tmp_path, "--tags", "wasteful", "--fail-bad-cluster-utilization")
    assert proc.returncode == 1
    error = report(tmp_path)["tests"][0]["error"]
    assert "declared 3 nodes but used at most 1 at once" in error


def test_repeat_and_exclude(tmp_path):
    proc = run(tmp_path, "--tags", "kafka", "--repeat", "3",
               "--exclude", f"{SCENARIO}::Tagged.test_kafka_slow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = report(tmp_path)["tests"]
    assert [t["test_id"] for t in tests] == ["ducktape_flags::Tagged.test_kafka"] * 3
    assert [t["folder"] for t in tests] == ["ducktape_flags.Tagged.test_kafka",
                                            "ducktape_flags.Tagged.test_kafka.repeat-2",
                                            "ducktape_flags.Tagged.test_kafka.repeat-3"]


def test_a_yaml_test_suite_includes_and_excludes(tmp_path):
    suite = tmp_path / "suite.yml"
    relative = os.path.relpath(SCENARIO, tmp_path)
    suite.write_text(f"tagged:\n  included:\n    - {relative}::Tagged\n"
                     f"  excluded:\n    - {relative}::Tagged.test_slow\n"
                     f"known:\n  - {relative}::Known.test_passes_now\n")
    proc = run(tmp_path / "results", "--collect-only", name=str(suite))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert listed(proc) == ["ducktape_flags::Tagged.test_kafka", "ducktape_flags::Tagged.test_kafka_slow",
                            "ducktape_flags::Known.test_passes_now"]
    suite.write_text("tagged: {include: [x.py]}\n")
    assert_one_line_error(run(tmp_path / "results", name=str(suite)), f"test suite {suite}",
                          "expected a list of tests")


def test_config_files_give_defaults_and_the_command_line_wins(tmp_path):
    home, workspace = tmp_path / "home", tmp_path / "workspace"
    (home / ".ducttape").mkdir(parents=True)
    (workspace / ".ducttape").mkdir(parents=True)
    (workspace / "projects.yaml").write_text("projects: {}\n")
    (workspace / ".ducttape" / "config").write_text("# the workspace's defaults\n--tags numbered\n")
    (home / ".ducttape" / "config").write_text("--sample=2 --seed 7\n--exit-first\n")
    env = {"HOME": str(home), "DUCTTAPE_WORKSPACE": str(workspace)}
    proc = run(tmp_path / "a", "--collect-only", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--sample 2 of 10 tests with --seed 7" in proc.stdout and len(listed(proc)) == 2
    proc = run(tmp_path / "b", "--collect-only", "--sample", "4", env=env)  # the command line wins
    assert "--sample 4 of 10 tests with --seed 7" in proc.stdout
    other = tmp_path / "other-config"
    other.write_text("--tags 'kafka and not slow'\n")  # --config-file replaces the user's file
    proc = run(tmp_path / "c", "--collect-only", "--config-file", str(other), env=env)
    assert "--seed" not in proc.stdout and listed(proc) == ["ducktape_flags::Tagged.test_kafka"]
    other.write_text("--no-such-flag\n")
    assert_one_line_error(run(tmp_path / "d", "--config-file", str(other), env=env),
                          f"config file {other}", "'--no-such-flag' is not a flag of `invoke test`")


@pytest.mark.parametrize("args, parts", [
    (["--repeat", "0"], ["--repeat '0' is not a whole number from 1"]),
    (["--sample", "x"], ["--sample 'x' is not a whole number from 1"]),
    (["--sample", "30"], ["--sample 30: only 19 tests are selected"]),
    (["--seed", "5"], ["--seed 5 goes with --sample N"]),
    (["--subsets", "2", "--subset", "2"], ["--subset 2 is not below --subsets 2"]),
    (["--subset", "1"], ["--subset 1 goes with --subsets N"]),
    (["--subsets", "2", "--historical-report", "/nonexistent/report.json"],
     ["--historical-report /nonexistent/report.json: cannot read a JSON report"]),
    (["--logs", "some"], ["--logs 'some' is not one of declared, always, failed"]),
    (["--tags", "kafka and"], ["--tags 'kafka and': it ends where a tag was expected"]),
    (["--tags", "kafka)"], ["--tags 'kafka)': unexpected ')'"]),
    (["--tags", "nothing-has-this"], ["no test left after tags"]),
    (["--exclude", "/nonexistent.py"], ["--exclude /nonexistent.py: unknown test"]),
    (["--config-file", "/nonexistent/config"], ["--config-file /nonexistent/config: there is no such file"]),
])
def test_every_bad_flag_value_is_one_line(tmp_path, args, parts):
    assert_one_line_error(run(tmp_path / "results", *args), *parts)
    assert not (tmp_path / "results").exists()


def _service_logs(results) -> list[str]:
    folder = os.path.join(results, "latest", report(results)["tests"][0]["folder"], "Sleeper-1", "node1")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize("args, collected", [
    ([], ["service.log"]),  # ducktape's rule: a pass collects the logs collected by default
    (["--param", "fail=true"], ["extra.log", "service.log"]),  # a failure collects all
    (["--param", "mark=true"], ["extra.log", "service.log"]),  # mark_for_collect adds one
    (["--param", "stop_early=true"], ["service.log"]),  # stopped before the outcome: pruned
    (["--param", "stop_early=true", "--param", "fail=true"], ["extra.log", "service.log"]),
    (["--logs", "always"], ["extra.log", "service.log"]),
    (["--logs", "failed"], []),
    (["--logs", "failed", "--param", "fail=true"], ["extra.log", "service.log"]),
    (["--compress"], ["service.log.gz"]),
])
def test_log_policy(tmp_path, args, collected):
    proc = run(tmp_path, "--tags", "logs", *args)
    assert proc.returncode == (1 if "fail=true" in args else 0), proc.stdout + proc.stderr
    assert _service_logs(tmp_path) == collected
    if "--compress" in args:
        folder = os.path.join(tmp_path, "latest", report(tmp_path)["tests"][0]["folder"], "Sleeper-1", "node1")
        with gzip.open(os.path.join(folder, "service.log.gz"), "rt") as f:
            assert f.read() == "sleeping\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_no_teardown_leaves_the_last_test_running_and_cluster_clean_ends_it(tmp_path):
    net = {"DUCTTAPE_LOCALHOST_NET": "127.0.77"}  # a prefix of its own: the second session wants it too
    proc = run(tmp_path, "--tags", "logs", "--no-teardown", env=net)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--no-teardown: ducktape_flags::Logs.test_logs left Sleeper-1 running" in proc.stdout
    assert re.search(r"^    node1: this machine \(127\.\d+\.\d+\.1\), files in /tmp/ducttape-localhost-\S+/node1$",
                     proc.stdout, re.M), proc.stdout
    assert "invoke cluster.clean" in proc.stdout
    kept = json.loads((tmp_path / "latest" / "kept.json").read_text())
    pid_file = kept["services"][0]["nodes"][0]["pid_file"]
    pid = int(open(pid_file).read())
    assert _alive(pid)
    scratch = kept["folders"][0]
    assert os.path.isdir(scratch)
    # the session keeps its lease of the nodes: no other session takes them while the services run
    (lease,) = kept["leases"]
    assert lease["node"] is None and lease["path"].endswith("/127.0.77.lease")
    holder = json.loads(open(lease["path"]).read().split(" ", 1)[1])
    assert holder["kept"] is True and holder["token"] == lease["token"]
    refused = run(tmp_path / "second", "--tags", "logs", env=net)
    assert_one_line_error(refused, "localhost nodes 127.0.77.* in use by the services session",
                          "left running", "(--no-teardown)", "`invoke cluster.clean` where that session ran")
    assert _alive(pid)
    clean = run_cli("cluster.clean", "--results-dir", str(tmp_path))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "stopped Sleeper-1" in clean.stdout and f"removed {scratch}" in clean.stdout
    assert f"released the lease {lease['path']}" in clean.stdout
    assert not _alive(pid) and not os.path.exists(scratch) and not os.path.exists(lease["path"])
    again = run_cli("cluster.clean", "--results-dir", str(tmp_path))
    assert_one_line_error(again, "nothing to clean")


@pytest.mark.slow
def test_jvm_logs_are_written_and_collected(tmp_path):
    proc = run(tmp_path, "--tags", "jvm", "--jvm-logs")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the JVM runs out of memory on purpose
    test = report(tmp_path)["tests"][0]
    folder = os.path.join(tmp_path, "latest", test["folder"], "jvm-logs", "node1", "jvm-logs")
    names = os.listdir(folder)
    assert any(re.fullmatch(r"gc-\d+\.log", n) for n in names), names
    assert any(re.fullmatch(r"safepoint-\d+\.log", n) for n in names), names
    assert any(re.fullmatch(r"java_pid\d+\.hprof", n) for n in names), names
    gc = next(n for n in names if n.startswith("gc-"))
    assert "Using" in open(os.path.join(folder, gc)).read()  # "Using G1" / "Using Serial"
    proc = run(tmp_path / "plain", "--tags", "jvm")
    assert not os.path.exists(os.path.join(tmp_path / "plain", "latest", test["folder"], "jvm-logs"))
