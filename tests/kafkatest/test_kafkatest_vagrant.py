"""Apache Kafka's own system tests (kafkatest 4.1.1), unmodified, through `invoke test --cluster
vagrant` on a 5-worker docker cluster of their own, via the ducktape compatibility layer.

The kafka-dev build (projects.yaml: the apache/kafka tree at 4.1.1 with the released jars in
libs/) is the Kafka under test on the workers (/opt/kafka-dev) and holds the test modules the
runner loads. One PLAINTEXT case of each of the four modules runs here, to keep CI short, and
one SASL case with Kerberos (GSSAPI, so kafkatest's MiniKdc from Kafka's test jar runs too); the
README lists every case of the four modules with its result.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vagrant_copy import make_copy, remove_copy

pytestmark = [pytest.mark.vagrant, pytest.mark.slow, pytest.mark.kafka]

REPO = Path(__file__).resolve().parents[2]
WORKERS = 5
CASES = [
    "sanity_checks/test_console_consumer.py::ConsoleConsumerTest.test_lifecycle"
    "[security_protocol=PLAINTEXT,metadata_quorum=ISOLATED_KRAFT]",
    "sanity_checks/test_verifiable_producer.py::TestVerifiableProducer.test_simple_run"
    "[producer_version=dev,acks=-1,enable_idempotence=True,metadata_quorum=COMBINED_KRAFT]",
    "tests/core/get_offset_shell_test.py::GetOffsetShellTest.test_get_offset_shell_topic_pattern"
    "[metadata_quorum=ISOLATED_KRAFT]",
    "tests/core/controller_mutation_quota_test.py::ControllerMutationQuotaTest.test_controller_mutation_quota"
    "[metadata_quorum=COMBINED_KRAFT]",
    "sanity_checks/test_console_consumer.py::ConsoleConsumerTest.test_lifecycle"
    "[security_protocol=SASL_PLAINTEXT,metadata_quorum=ISOLATED_KRAFT]",
]
IDS = [
    "kafkatest.sanity_checks.test_console_consumer.ConsoleConsumerTest.test_lifecycle"
    ".security_protocol=PLAINTEXT.metadata_quorum=ISOLATED_KRAFT",
    "kafkatest.sanity_checks.test_verifiable_producer.TestVerifiableProducer.test_simple_run"
    ".producer_version=dev.acks=-1.enable_idempotence=True.metadata_quorum=COMBINED_KRAFT",
    "kafkatest.tests.core.get_offset_shell_test.GetOffsetShellTest.test_get_offset_shell_topic_pattern"
    ".metadata_quorum=ISOLATED_KRAFT",
    "kafkatest.tests.core.controller_mutation_quota_test.ControllerMutationQuotaTest"
    ".test_controller_mutation_quota.metadata_quorum=COMBINED_KRAFT",
    "kafkatest.sanity_checks.test_console_consumer.ConsoleConsumerTest.test_lifecycle"
    ".security_protocol=SASL_PLAINTEXT.metadata_quorum=ISOLATED_KRAFT",
]
KERBEROS_ID = IDS[-1]


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A repository copy with the kafka-dev build and a 5-worker cluster up; destroyed after."""
    copy = make_copy(tmp_path_factory.mktemp("kafkatest") / "repo")
    try:
        ok(subprocess.run([sys.executable, "-m", "invoke", "build", "--only=kafka-dev"], cwd=REPO,
                          capture_output=True, text=True, timeout=1800))
        shutil.copytree(REPO / "build" / "kafka-dev", copy.root / "build" / "kafka-dev", symlinks=True,
                        ignore=shutil.ignore_patterns(".git"))
        shutil.copy2(REPO / "build" / "manifest.json", copy.root / "build" / "manifest.json")
        # one worker first: it creates the docker network (as in tests/faults/test_faults_vagrant.py)
        copy.write_local(num_workers=1, ram_megabytes=1536)
        ok(copy.invoke("cluster.image", timeout=900))
        ok(copy.invoke("cluster.up", timeout=900))
        copy.write_local(num_workers=WORKERS, ram_megabytes=1536)
        ok(copy.invoke("cluster.up", timeout=900))
        yield copy
    finally:
        remove_copy(copy)


@pytest.mark.timeout(2400)
def test_kafkatest_modules_pass_unmodified(copy):
    kafkatest = copy.root / "build" / "kafka-dev" / "tests" / "kafkatest"
    upstream = subprocess.run(["git", "-C", str(REPO / "build" / "kafka-dev"), "status", "--porcelain",
                               "tests"], capture_output=True, text=True, timeout=60)
    assert upstream.returncode == 0 and upstream.stdout == "", upstream.stdout  # unmodified
    results = copy.root / "results"
    for case in CASES:
        proc = copy.invoke("test", str(kafkatest / case), "--cluster", "vagrant", "--timeout", "600",
                           "--results-dir", str(results), timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    statuses = {}
    for report in sorted(p for p in results.glob("*/report.json") if not p.parent.is_symlink()):
        session = report.parent
        with open(report) as f:
            for test in json.load(f)["tests"]:
                statuses[test["test_id"]] = test["status"]
                folder = session / test["folder"]
                logs = [p for p in folder.rglob("*") if p.is_file() and p.parent.parent.name.startswith("KafkaService")]
                assert logs, f"no Kafka logs collected in {folder}"
                if test["test_id"] == KERBEROS_ID:  # the brokers authenticated through MiniKdc
                    assert any("MiniKdc Running" in p.read_text() for p in folder.glob("MiniKdc-*/*/minikdc.log"))
                    assert any("sasl.enabled.mechanisms = [GSSAPI]" in p.read_text(errors="replace")
                               for p in folder.glob("KafkaService-*/*/server-start-stdout-stderr.log"))
    assert statuses == {test_id: "PASS" for test_id in IDS}
