"""Parametrized cases, node needs, parallel scheduling, retries, rerun-failed, collect-only."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET

from support import run_cli
from test_runner_cli import (SCENARIOS, assert_no_process, assert_one_line_error, interrupt_hanging_run,
                             report, session)

from ducttape.runner.discovery import discover


def scenario(name: str) -> str:
    return os.path.join(SCENARIOS, f"{name}.py")


def test_matrix_and_parametrize_expand_to_cases_with_ids():
    specs = discover(scenario("params"))
    assert [(s.test_id, s.num_nodes) for s in specs] == [
        ("params::ParamsTest.test_pair[size=small,acks=1]", 1),
        ("params::ParamsTest.test_pair[size=large,acks=-1]", 1),
        ("params::ParamsTest.test_grid[brokers=1,compression=none]", 2),
        ("params::ParamsTest.test_grid[brokers=1,compression=lz4]", 2),
        ("params::ParamsTest.test_grid[brokers=3,compression=none]", 4),
        ("params::ParamsTest.test_grid[brokers=3,compression=lz4]", 4),
    ]
    assert len({s.folder for s in specs}) == 6


def test_each_case_runs_with_its_own_folder_and_row(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", scenario("params"), "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = report(results)["tests"]
    assert len(tests) == 6 and all(t["status"] == "PASS" for t in tests)
    grid = [t for t in tests if "test_grid" in t["test_id"]]
    assert [t["data"]["nodes"] for t in grid] == [2, 2, 4, 4]
    for t in tests:
        with open(os.path.join(session(results), t["folder"], "data.json")) as f:
            assert json.load(f) == t["data"]


def test_one_case_selected_by_id(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", f"{scenario('params')}::ParamsTest.test_grid[brokers=3, compression=lz4]",
                   "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [t["test_id"] for t in report(results)["tests"]] == [
        "params::ParamsTest.test_grid[brokers=3,compression=lz4]"]
    bad = run_cli("test", f"{scenario('params')}::ParamsTest.test_grid[brokers=9]", "--results-dir", str(results))
    assert_one_line_error(bad, "no test", "test_grid[brokers=3,compression=lz4]")


def test_collect_only_lists_cases_and_needs_without_running(tmp_path):
    proc = run_cli("test", scenario("oversized"), "--collect-only", "--results-dir", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    assert "oversized::SizesTest.test_huge" in proc.stdout and "50" in proc.stdout
    assert "all (undeclared)" in proc.stdout and "3 tests" in proc.stdout
    assert not (tmp_path / "r").exists()


def test_parallel_runs_never_share_nodes(tmp_path):
    results = tmp_path / "results"
    start = time.monotonic()
    proc = run_cli("test", scenario("parallel_mix"), "--cluster", "localhost:8", "--max-parallel", "4",
                   "--results-dir", str(results))
    wall = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = report(results)["tests"]
    assert len(tests) == 8 and all(t["status"] == "PASS" for t in tests)
    spans = [(t["started"], t["started"] + t["duration"], set(t["nodes"]), t["test_id"]) for t in tests]
    overlapping = 0
    for (s1, e1, n1, a), (s2, e2, n2, b) in itertools.combinations(spans, 2):
        if s1 < e2 and s2 < e1:
            overlapping += 1
            assert not n1 & n2, f"{a} and {b} ran at the same time on {n1 & n2}"
    assert overlapping >= 4, "tests did not run in parallel"
    needs = {"One": 1, "Two": 2, "Three": 3, "Four": 4}
    for t in tests:
        assert len(t["nodes"]) == needs[t["cls"]]
    assert "running on" in proc.stdout
    assert wall < 60


def test_flaky_then_failed_and_rerun_failed(tmp_path):
    results = tmp_path / "results"
    env = {"DUCTTAPE_FLAKY_STATE": str(tmp_path / "state")}
    kept_elsewhere = tmp_path / "elsewhere" / "x.py"  # a scenario module outside ducttape/tests
    os.makedirs(kept_elsewhere.parent)
    shutil.copy(scenario("flaky"), kept_elsewhere)
    proc = run_cli("test", str(kept_elsewhere), "--retries", "1", "--results-dir", str(results), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lucky, unlucky = report(results)["tests"]
    assert lucky["status"] == "FLAKY" and "fails the first time" in lucky["error"]
    assert [a["status"] for a in lucky["attempts"]] == ["FAIL", "PASS"]
    folder = os.path.join(session(results), lucky["folder"])
    assert "first run" in open(os.path.join(folder, "attempt-1", "test_log.info")).read()
    assert "second run" in open(os.path.join(folder, "test_log.info")).read()
    assert unlucky["status"] == "FAIL" and len(unlucky["attempts"]) == 2
    assert "FLAKY" in proc.stdout and "1 flaky" in proc.stdout
    with open(os.path.join(session(results), "rerun-failed")) as f:
        assert f.read().split() == [f"{kept_elsewhere}::FlakyTest.test_always_fails"]
    # `invoke test failed` reruns exactly what failed last time, from wherever its module is kept
    again = run_cli("test", "failed", "--results-dir", str(results), env=env)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "[1/1] x::FlakyTest.test_always_fails ... FAIL" in again.stdout
    assert [t["test_id"] for t in report(results)["tests"]] == ["x::FlakyTest.test_always_fails"]
    os.remove(kept_elsewhere)
    gone = run_cli("test", "failed", "--results-dir", str(results), env=env)
    assert_one_line_error(gone, f"unknown test '{kept_elsewhere}': there is no such file")


def test_rerun_failed_of_a_scenario_module(tmp_path):
    results = tmp_path / "results"
    os.makedirs(results / "2026-01-01--001")
    (results / "2026-01-01--001" / "rerun-failed").write_text("sample_services::SampleServicesTest.test_bounce\n")
    os.symlink("2026-01-01--001", results / "latest")
    proc = run_cli("test", "failed", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [t["test_id"] for t in report(results)["tests"]] == ["sample_services::SampleServicesTest.test_bounce"]
    assert_one_line_error(run_cli("test", "failed", "--results-dir", str(results)), "no failed tests")


def test_oversized_test_fails_up_front_and_undeclared_is_warned(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", scenario("oversized"), "--cluster", "localhost:2", "--results-dir", str(results))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    by_id = {t["test_id"]: t for t in report(results)["tests"]}
    huge = by_id["oversized::SizesTest.test_huge"]
    assert huge["status"] == "FAIL" and "needs 50 nodes but the localhost cluster (2 nodes) has 2" in huge["error"]
    assert huge["duration"] == 0 and by_id["oversized::SizesTest.test_small"]["status"] == "PASS"
    assert by_id["oversized::UndeclaredTest.test_takes_everything"]["data"] == {"nodes": 2}
    assert "warning: oversized::UndeclaredTest.test_takes_everything declares no node need" in proc.stdout
    strict = run_cli("test", scenario("oversized"), "--strict", "--results-dir", str(tmp_path / "strict"))
    assert_one_line_error(strict, "declares no node need", results_dir=tmp_path / "strict")


def test_ctrl_c_during_a_parallel_run_leaves_no_process(tmp_path):
    proc, marker = interrupt_hanging_run(tmp_path / "results", "--max-parallel", "2", "--cluster", "localhost:4")
    assert proc.returncode == 130, proc.stdout + proc.stderr
    doc = report(tmp_path / "results")
    assert doc["interrupted"] and "interrupted" in doc["tests"][0]["error"]
    assert_no_process(marker)


def test_junit_names_every_case_and_the_console_numbers_tests_as_they_start(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", scenario("params"), "--max-parallel", "2", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    started = [line.split(" ", 2)[:2] for line in proc.stdout.splitlines() if line.endswith(tuple("12345678"))
               and "running on" in line]
    assert [pos for pos, _ in started] == [f"[{k}/6]" for k in range(1, 7)], proc.stdout
    assert started[0][1].startswith("params::ParamsTest.test_grid[brokers=3"), "biggest needs start first"
    cases = ET.parse(os.path.join(session(results), "junit.xml")).getroot().findall("testcase")
    assert sorted(c.get("name") for c in cases) == sorted([
        "test_pair[size=small,acks=1]", "test_pair[size=large,acks=-1]",
        "test_grid[brokers=1,compression=none]", "test_grid[brokers=1,compression=lz4]",
        "test_grid[brokers=3,compression=none]", "test_grid[brokers=3,compression=lz4]"])


def test_a_session_keeps_an_append_only_log_of_results(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", scenario("params"), "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(os.path.join(session(results), "results.jsonl")) as f:
        logged = [json.loads(line) for line in f]
    assert sorted(r["test_id"] for r in logged) == sorted(t["test_id"] for t in report(results)["tests"])
    assert all(r["status"] == "PASS" for r in logged)


def test_a_test_has_log_files_only_for_what_it_logged(tmp_path):
    module = tmp_path / "logging_levels.py"
    module.write_text('''
from ducttape.runner import Test, cluster


class LevelsTest(Test):
    @cluster(num_nodes=1)
    def test_silent(self):
        pass

    @cluster(num_nodes=1)
    def test_debug_only(self):
        self.logger.debug("quietly %d", 1)

    @cluster(num_nodes=1)
    def test_info(self):
        self.logger.info("loudly")
''')
    results = tmp_path / "results"
    proc = run_cli("test", str(module), "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = {t["method"]: t for t in report(results)["tests"]}
    folder = {m: os.path.join(session(results), t["folder"]) for m, t in tests.items()}
    assert os.path.isdir(folder["test_silent"]) and os.listdir(folder["test_silent"]) == []
    assert tests["test_silent"]["test_logs"] == []
    assert sorted(os.listdir(folder["test_debug_only"])) == ["test_log.debug"]
    assert "DEBUG MainThread ducttape.test.LevelsTest] quietly 1" in open(
        os.path.join(folder["test_debug_only"], "test_log.debug")).read()
    assert sorted(os.listdir(folder["test_info"])) == ["test_log.debug", "test_log.info"]
    assert [os.path.basename(f) for f in tests["test_info"]["test_logs"]] == ["test_log.debug", "test_log.info"]
    line = open(os.path.join(folder["test_info"], "test_log.info")).read()
    assert re.fullmatch(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO  MainThread ducttape.test.LevelsTest\] loudly\n",
                        line)
    session_log = open(os.path.join(session(results), "session_log.info")).read()
    for method in tests:  # the runner says when each test ran and how it ended
        assert f"running logging_levels::LevelsTest.{method} on node1" in session_log
        assert f"logging_levels::LevelsTest.{method} PASS in " in session_log
    assert "loudly" in session_log and "quietly" not in session_log
