"""The kafkatest breadth suite: one case of every kafkatest 4.1.1 test method under sanity_checks/,
tests/core/, tests/client/ and tests/tools/ that fits 5 workers and is not in
test_kafkatest_vagrant.py (CI's), and of the connect and streams modules that fit, unmodified,
each in a session of its own on a 5-worker docker cluster of its own.

CI does not run it (about an hour here): `.venv/bin/pytest -m kafkatest_breadth
tests/kafkatest/test_kafkatest_breadth.py` does (tests/kafkatest/conftest.py deselects it unless
the marker is named). A case that needs what the workers lack is skipped with one line naming it,
after a check on a worker; docs/kafkatest.md has the table of every module and why the others
do not run here.
"""

from __future__ import annotations

import subprocess

import pytest

from kafkatest_support import BREADTH, kafkatest_cluster, run_case, session_tests

pytestmark = [pytest.mark.vagrant, pytest.mark.slow, pytest.mark.kafka, getattr(pytest.mark, BREADTH)]

# What some cases need that a worker may lack: a shell check run on worker1, and the line a skip
# says when it fails.
NEEDS = {
    "netem": ("tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root",
              "netem missing: the workers' kernel has no sch_netem (CONFIG_NET_SCH_NETEM), which "
              "trogdor's latency fault (tc ... netem delay) needs"),
    "kibosh": ("test -x /opt/kibosh/build/kibosh && test -c /dev/fuse",
               "kibosh missing: no /opt/kibosh/build/kibosh (confluentinc/kibosh, a FUSE "
               "filesystem, is not in the node image) and no /dev/fuse in the containers"),
    "kafka-3.9.1": ("test -x /opt/kafka-3.9.1/bin/kafka-server-start.sh",
                    "release missing: /opt/kafka-3.9.1 (the workers have Kafka 4.1.1 only, as "
                    "/opt/kafka-dev; the upgrade and compatibility tests start older releases)"),
}

CASES = [  # (selector under kafkatest/, what it needs of NEEDS)
    ("sanity_checks/test_bounce.py::TestBounce.test_simple_run[metadata_quorum=ISOLATED_KRAFT,quorum_size=1]", ()),
    ("sanity_checks/test_verifiable_producer.py::TestVerifiableProducer.test_multiple_kraft_sasl_mechanisms"
     "[metadata_quorum=ISOLATED_KRAFT]", ()),
    ("sanity_checks/test_verifiable_producer.py::TestVerifiableProducer.test_multiple_kraft_security_protocols"
     "[inter_broker_security_protocol=PLAINTEXT,metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/core/authorizer_test.py::AuthorizerTest.test_authorizer[metadata_quorum=ISOLATED_KRAFT,"
     "authorizer_class=org.apache.kafka.metadata.authorizer.StandardAuthorizer]", ()),
    # the PLAINTEXT cases of both group-command modules fail upstream: `security_protocol is not
    # SecurityConfig.PLAINTEXT` is False for the interned 'PLAINTEXT', so the --command-config file
    # the command is given is never written (docs/kafkatest.md); their SSL cases run here
    ("tests/core/consumer_group_command_test.py::ConsumerGroupCommandTest.test_describe_consumer_group"
     "[security_protocol=SSL,metadata_quorum=ISOLATED_KRAFT,group_protocol=classic]", ()),
    ("tests/core/consumer_group_command_test.py::ConsumerGroupCommandTest.test_list_consumer_groups"
     "[security_protocol=SSL,metadata_quorum=ISOLATED_KRAFT,group_protocol=consumer]", ()),
    ("tests/core/share_group_command_test.py::ShareGroupCommandTest.test_list_share_groups"
     "[security_protocol=SSL,metadata_quorum=ISOLATED_KRAFT,use_share_groups=True]", ()),
    ("tests/core/share_group_command_test.py::ShareGroupCommandTest.test_describe_share_group"
     "[security_protocol=SSL,metadata_quorum=ISOLATED_KRAFT,use_share_groups=True]", ()),
    ("tests/core/share_group_command_test.py::ShareGroupCommandTest.test_describe_share_group_members"
     "[security_protocol=SSL,metadata_quorum=ISOLATED_KRAFT,use_share_groups=True]", ()),
    ("tests/core/get_offset_shell_test.py::GetOffsetShellTest.test_get_offset_shell_topic_name"
     "[metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/core/security_test.py::SecurityTest.test_quorum_ssl_endpoint_validation_failure"
     "[metadata_quorum=ISOLATED_KRAFT,group_protocol=classic]", ()),
    ("tests/core/delegation_token_test.py::DelegationTokenTest.test_delegation_token_lifecycle"
     "[metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/core/network_degrade_test.py::NetworkDegradeTest.test_rate[task_name=rate-1000,device_name=eth0,"
     "latency_ms=0,rate_limit_kbit=1000000,metadata_quorum=COMBINED_KRAFT]", ()),
    ("tests/core/network_degrade_test.py::NetworkDegradeTest.test_latency[task_name=latency-100,"
     "device_name=eth0,latency_ms=50,rate_limit_kbit=0,metadata_quorum=COMBINED_KRAFT]", ("netem",)),
    ("tests/core/upgrade_test.py::TestUpgrade.test_combined_mode_upgrade"
     "[from_kafka_version=dev,metadata_quorum=COMBINED_KRAFT]", ()),
    ("tests/core/upgrade_test.py::TestUpgrade.test_combined_mode_upgrade"
     "[from_kafka_version=3.9.1,metadata_quorum=COMBINED_KRAFT]", ("kafka-3.9.1",)),
    ("tests/client/consumer_rolling_upgrade_test.py::ConsumerRollingUpgradeTest.rolling_update_test"
     "[metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/client/quota_test.py::QuotaTest.test_quota[quota_type=client-id,consumer_num=2,"
     "metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/tools/log_compaction_test.py::LogCompactionTest.test_log_compaction[metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/tools/trogdor_test.py::TrogdorTest.test_network_partition_fault", ()),
    ("tests/tools/kibosh_test.py::KiboshTest.test_kibosh_service", ("kibosh",)),
    ("tests/connect/connect_rest_test.py::ConnectRestApiTest.test_rest_api"
     "[connect_protocol=eager,metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/connect/connect_test.py::ConnectStandaloneFileTest.test_file_source_and_sink"
     "[security_protocol=PLAINTEXT,metadata_quorum=ISOLATED_KRAFT]", ()),
    ("tests/streams/streams_shutdown_deadlock_test.py::StreamsShutdownDeadlockTest.test_shutdown_wont_deadlock"
     "[metadata_quorum=ISOLATED_KRAFT]", ()),
]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    yield from kafkatest_cluster(tmp_path_factory)


def lacks(copy, need: str) -> str | None:
    """NEEDS[need]'s line when worker1 fails its check, else None."""
    check, line = NEEDS[need]
    proc = subprocess.run(["docker", "exec", f"{copy.cluster_name}-worker1", "sudo", "sh", "-c", check],
                          capture_output=True, text=True, timeout=60)
    return None if proc.returncode == 0 else line


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("case,needs", CASES, ids=[c.split("::")[1] for c, _ in CASES])
def test_case(copy, tmp_path, case, needs):
    for need in needs:
        if missing := lacks(copy, need):
            pytest.skip(missing)
    proc = run_case(copy, case, tmp_path, timeout=900)
    [(_, test)] = session_tests(tmp_path).values()
    assert proc.returncode == 0 and test["status"] == "PASS", test.get("error") or proc.stdout + proc.stderr
