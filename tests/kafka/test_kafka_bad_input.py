"""Bad input fails the test with a clear message (the log's telling lines included), fails
fast, and leaves nothing running."""

from __future__ import annotations

import os

import pytest

from kafka_helpers import SCENARIOS, by_method, invoke_test, leftovers, session_dir
from support import run_cli
from ducttape.cluster.localhost import loopback_net

NET = loopback_net()

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_failures_are_clear_fast_and_leave_nothing_running(built, tmp_path):
    proc, report = invoke_test(tmp_path, os.path.join(SCENARIOS, "kafka_bad_input.py"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    tests = by_method(report)
    assert all(t["status"] == "FAIL" for t in tests.values()) and len(tests) == 4

    oversized = tests["MoreBrokersThanNodes.test_three_brokers_on_two_nodes"]
    assert oversized["error"].startswith("ClusterError: asked for 3 nodes but the test's share of "
                                         "the localhost cluster (8 nodes) has 2 (kafka_bad_input.py:")

    bridge = tests["BridgeWithoutKafka.test_bridge_cannot_reach_kafka"]
    assert bridge["error"].startswith("ServiceError: RestProxyService-1 on node2: the bridge cannot "
                                      f"reach Kafka: no broker of {NET}.1:9092 accepts connections")
    assert f"Connection to node -1 (/{NET}.1:9092) could not be established" in bridge["error"]

    refused = tests["BrokerWithBadConfig.test_broker_refuses_its_config"]
    assert refused["error"].startswith("ServiceError: KafkaService-1 on node1: kafka storage format")
    assert "Invalid value many for configuration num.partitions" in refused["error"]
    assert "\tat " not in refused["error"]

    died = tests["BrokerWithBadConfig.test_broker_dies_while_starting"]
    assert died["error"].startswith("ServiceError: KafkaService-1 on node1 exited while waiting "
                                    "for /Kafka Server started/")
    assert "Socket server failed to bind to 192.0.2.1:9092" in died["error"]
    assert died["duration"] < 60, "a dead broker fails the start at once, not after the timeout"

    for test, log in ((died, "KafkaService-1/node1/kafka.log"), (bridge, "RestProxyService-1/node2/bridge.log"),
                      (bridge, "KafkaService-1/node1/kafka.log")):
        assert os.path.isfile(os.path.join(session_dir(tmp_path), test["folder"], log)), log
    assert "BindException" in open(os.path.join(session_dir(tmp_path), died["folder"],
                                                "KafkaService-1/node1/kafka.log")).read()
    assert not leftovers(tmp_path)


def test_a_cluster_too_small_for_the_scenario_is_refused_up_front(tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", "native_vs_rest_performance", "--cluster", "localhost:2",
                   "--results-dir", str(results), timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (
        "error: native_vs_rest_performance::NativeVsRestProducerPerformance.test_produce needs 3 "
        "nodes but the localhost cluster (2 nodes) has 2; use --cluster localhost:3")
    assert not results.exists()


def test_an_unknown_size_fails_the_test_before_any_service_starts(tmp_path):
    proc, report = invoke_test(tmp_path, "native_vs_rest_performance::NativeVsRestConsumerPerformance",
                               "--param", "size=huge")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [test] = report["tests"]
    assert test["error"].startswith("ConfigError: --param size='huge' is not a size: use small or seed "
                                    "(native_vs_rest_performance.py:")
    assert test["duration"] < 30 and not leftovers(tmp_path)
    folder = os.path.join(session_dir(tmp_path), test["folder"])
    assert not [f for f in os.listdir(folder) if f.endswith("Service-1")], "no service started"


def test_every_scenario_is_collected_whatever_the_parameters(tmp_path):
    proc = run_cli("test", "all", "--collect-only", "--param", "size=huge", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NativeVsRestProducerPerformance.test_produce" in proc.stdout
