"""Every shipped scenario and every documented example passes on the localhost cluster and on 3
docker workers (the node image has what they run: python3, the JDK, curl...)."""

import json
import sys
from pathlib import Path

import pytest

from ducttape.runner.discovery import discover

pytestmark = [pytest.mark.vagrant, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "docs" / "examples").glob("*.py"))
RUN_HERE = {
    "sample_services": [],
    "sample_latency": ["--param", "repeats=2", "--param", "requests=20"],
}
"""Scenario modules run here, with the parameters that keep them short."""
RUN_ELSEWHERE = {
    "kafka_bounce": "needs 5 nodes and the Kafka build: tests/kafka/test_kafka_scenarios.py (localhost), "
                    "tests/faults/test_faults_vagrant.py (7 workers; the kill -9 case)",
    "zookeeper_ensemble": "needs the ZooKeeper build: tests/kafka/test_kafka_scenarios.py (localhost), "
                          "tests/faults/test_faults_vagrant.py (7 workers)",
    "native_vs_rest_performance": "needs the Kafka and bridge builds: tests/fresh/test_fresh_machine.py "
                                  "(localhost, at its defaults), tests/vagrant/test_vagrant_lifecycle.py (3 workers)",
    "kafka_partition": "network faults (which localhost refuses) on 7 workers: tests/faults/test_faults_vagrant.py",
    "zookeeper_partition": "network faults (which localhost refuses) on 4 of 7 workers: "
                           "tests/faults/test_faults_vagrant.py",
    "kafka_latency": "network faults (which localhost refuses) on 4 of 7 workers: tests/faults/test_faults_vagrant.py",
}
"""Scenario modules that need a build of Kafka or ZooKeeper, and the tests that run them."""


def selections():
    """(selection, extra arguments) of every scenario run here and every example."""
    return [*((name, args) for name, args in RUN_HERE.items()),
            *((str(path), ["--param", "size_mb=2"]) for path in EXAMPLES)]


def test_every_shipped_scenario_is_run_here_or_named_with_its_test():
    shipped = {spec.module for spec in discover(None)}
    assert shipped == set(RUN_HERE) | set(RUN_ELSEWHERE), shipped ^ (set(RUN_HERE) | set(RUN_ELSEWHERE))


def run_all(copy, cluster, results):
    """Run every selection on ``cluster`` from the copy; return their reports' tests."""
    found = []
    for selection, args in selections():
        proc = copy.invoke("test", selection, "--cluster", cluster, "--results-dir", str(results),
                           *args, timeout=600)
        assert proc.returncode == 0, f"{selection} on {cluster}:\n{proc.stdout}\n{proc.stderr}"
        tests = json.loads((results / "latest" / "report.json").read_text())["tests"]
        assert tests and all(t["status"] == "PASS" for t in tests), proc.stdout
        found += tests
    return found


@pytest.mark.timeout(2400)  # the node image (debootstrap) and a 3-worker cluster from nothing
def test_every_scenario_and_example_passes_on_localhost_and_on_3_docker_workers(vagrant_copy, tmp_path):
    copy = vagrant_copy
    local = run_all(copy, "localhost", tmp_path / "localhost")
    copy.write_local(num_workers=3)
    up = copy.invoke("cluster.up", timeout=1500)
    assert up.returncode == 0, up.stdout + up.stderr
    workers = run_all(copy, "vagrant", tmp_path / "vagrant")
    assert sorted(t["test_id"] for t in workers) == sorted(t["test_id"] for t in local)
    assert {n for t in workers for n in t["nodes"]} == {"worker1", "worker2", "worker3"}
    assert all(n.startswith("node") for t in local for n in t["nodes"])
    echo = next(t for t in workers if t["test_id"].startswith("sample_latency::"))
    assert len(echo["data"]["latency_median"]["values"]) == 2, echo["data"]
    print(f"\n{len(local)} tests on localhost and on 3 workers ({sys.platform})")
