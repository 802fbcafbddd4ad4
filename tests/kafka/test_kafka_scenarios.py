"""The Kafka and ZooKeeper scenario modules through `invoke test`: bounces lose nothing."""

from __future__ import annotations

import os

import pytest

from ducttape.cluster.localhost import loopback_net
from kafka_helpers import by_method, invoke_test, leftovers, session_dir

NET = loopback_net()

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_kafka_bounce_loses_no_acknowledged_record(built, tmp_path):
    proc, report = invoke_test(tmp_path, "kafka_bounce")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = by_method(report)
    assert len(tests) == 2
    for clean in (True, False):
        test = tests[f"KafkaBounceTest.test_no_acked_record_lost[clean_shutdown={clean}]"]
        data = test["data"]
        assert data["clean_shutdown"] is clean and data["lost"] == 0
        assert data["acked"] >= 27000 and data["consumed"] >= data["acked"]
        assert data["acked_after_bounce_began"] > 0, "the bounce must happen while producing"
        assert test["nodes"] == ["node1", "node2", "node3", "node4", "node5"]
        folder = os.path.join(session_dir(tmp_path), test["folder"])
        bounced = data["bounced"]
        log = open(os.path.join(folder, "KafkaService-1", bounced, "kafka.log")).read()
        assert log.count("Kafka Server started") == 2, "the bounced broker started twice"
        for node in ("node1", "node2", "node3"):
            assert os.path.isfile(os.path.join(folder, "KafkaService-1", node, "server.properties"))
    assert not leftovers(tmp_path)


def test_zookeeper_ensemble_survives_a_bounce(built, tmp_path):
    proc, report = invoke_test(tmp_path, "zookeeper_ensemble")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for test in report["tests"]:
        data = test["data"]
        assert sorted(data["modes_before"].values()) == ["follower", "follower", "leader"]
        assert sorted(data["modes_after"].values()) == ["follower", "follower", "leader"]
        assert data["modes_before"][data["bounced"]] == "leader"
        folder = os.path.join(session_dir(tmp_path), test["folder"])
        cfg = open(os.path.join(folder, "ZookeeperService-1", "node1", "zoo.cfg")).read()
        assert f"server.3={NET}.3:2888:3888" in cfg and f"clientPortAddress={NET}.1" in cfg
    assert not leftovers(tmp_path)
