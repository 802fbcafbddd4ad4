"""Apache Kafka's own system tests (kafkatest 4.1.1), unmodified, through `invoke test --cluster
vagrant` on a 5-worker docker cluster of their own, via the ducktape compatibility layer.

The kafka-dev build (projects.yaml: the apache/kafka tree at 4.1.1 with the released jars in
libs/) is the Kafka under test on the workers (/opt/kafka-dev) and holds the test modules the
runner loads. To keep CI short one case runs of each of seven modules (one PLAINTEXT case of each
of the four first run, one of three more), and one SASL case with Kerberos (GSSAPI, so kafkatest's
MiniKdc from Kafka's test jar runs too), all in one session from a suite file;
test_kafkatest_breadth.py (a suite CI does not run) runs a case of every test method that fits 5
workers, and docs/kafkatest.md lists every module.
"""

from __future__ import annotations

import subprocess

import pytest

from kafkatest_support import REPO, kafkatest_cluster, run_cases, session_tests

pytestmark = [pytest.mark.vagrant, pytest.mark.slow, pytest.mark.kafka]

CASES = {  # selector under kafkatest/ -> the test id it runs
    "sanity_checks/test_console_consumer.py::ConsoleConsumerTest.test_lifecycle"
    "[security_protocol=PLAINTEXT,metadata_quorum=ISOLATED_KRAFT]":
    "kafkatest.sanity_checks.test_console_consumer.ConsoleConsumerTest.test_lifecycle"
    ".security_protocol=PLAINTEXT.metadata_quorum=ISOLATED_KRAFT",
    "sanity_checks/test_verifiable_producer.py::TestVerifiableProducer.test_simple_run"
    "[producer_version=dev,acks=-1,enable_idempotence=True,metadata_quorum=COMBINED_KRAFT]":
    "kafkatest.sanity_checks.test_verifiable_producer.TestVerifiableProducer.test_simple_run"
    ".producer_version=dev.acks=-1.enable_idempotence=True.metadata_quorum=COMBINED_KRAFT",
    "tests/core/get_offset_shell_test.py::GetOffsetShellTest.test_get_offset_shell_topic_pattern"
    "[metadata_quorum=ISOLATED_KRAFT]":
    "kafkatest.tests.core.get_offset_shell_test.GetOffsetShellTest.test_get_offset_shell_topic_pattern"
    ".metadata_quorum=ISOLATED_KRAFT",
    "tests/core/controller_mutation_quota_test.py::ControllerMutationQuotaTest.test_controller_mutation_quota"
    "[metadata_quorum=COMBINED_KRAFT]":
    "kafkatest.tests.core.controller_mutation_quota_test.ControllerMutationQuotaTest"
    ".test_controller_mutation_quota.metadata_quorum=COMBINED_KRAFT",
    "sanity_checks/test_console_share_consumer.py::ConsoleShareConsumerTest.test_lifecycle"
    "[security_protocol=PLAINTEXT,metadata_quorum=ISOLATED_KRAFT,use_share_groups=True]":
    "kafkatest.sanity_checks.test_console_share_consumer.ConsoleShareConsumerTest.test_lifecycle"
    ".security_protocol=PLAINTEXT.metadata_quorum=ISOLATED_KRAFT.use_share_groups=True",
    "tests/client/pluggable_test.py::PluggableConsumerTest.test_start_stop[metadata_quorum=ISOLATED_KRAFT]":
    "kafkatest.tests.client.pluggable_test.PluggableConsumerTest.test_start_stop.metadata_quorum=ISOLATED_KRAFT",
    "tests/tools/trogdor_test.py::TrogdorTest.test_trogdor_service":
    "kafkatest.tests.tools.trogdor_test.TrogdorTest.test_trogdor_service",
    "sanity_checks/test_console_consumer.py::ConsoleConsumerTest.test_lifecycle"
    "[security_protocol=SASL_PLAINTEXT,metadata_quorum=ISOLATED_KRAFT]":
    "kafkatest.sanity_checks.test_console_consumer.ConsoleConsumerTest.test_lifecycle"
    ".security_protocol=SASL_PLAINTEXT.metadata_quorum=ISOLATED_KRAFT",
}
KERBEROS_ID = list(CASES.values())[-1]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    yield from kafkatest_cluster(tmp_path_factory)


@pytest.mark.timeout(3000)
def test_kafkatest_modules_pass_unmodified(copy):
    upstream = subprocess.run(["git", "-C", str(REPO / "build" / "kafka-dev"), "status", "--porcelain",
                               "tests"], capture_output=True, text=True, timeout=60)
    assert upstream.returncode == 0 and upstream.stdout == "", upstream.stdout  # unmodified
    results = copy.root / "results"
    proc = run_cases(copy, list(CASES), results)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = session_tests(results)
    for session, test in tests.values():
        folder = session / test["folder"]
        service = "TrogdorService" if ".trogdor_test." in test["test_id"] else "KafkaService"
        logs = [p for p in folder.rglob("*") if p.is_file() and p.parent.parent.name.startswith(service)]
        assert logs, f"no {service} logs collected in {folder}"
        if test["test_id"] == KERBEROS_ID:  # the brokers authenticated through MiniKdc
            assert any("MiniKdc Running" in p.read_text() for p in folder.glob("MiniKdc-*/*/minikdc.log"))
            assert any("sasl.enabled.mechanisms = [GSSAPI]" in p.read_text(errors="replace")
                       for p in folder.glob("KafkaService-*/*/server-start-stdout-stderr.log"))
    assert {i: t["status"] for i, (_, t) in tests.items()} == {i: "PASS" for i in CASES.values()}
