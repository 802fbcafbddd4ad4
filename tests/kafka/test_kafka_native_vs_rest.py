"""`invoke test native_vs_rest_performance` end to end at the small size: real figures."""

from __future__ import annotations

import os

import pytest

from ducttape.build import manifest
from kafka_helpers import by_method, invoke_test, leftovers, session_dir

# the REST path runs on the Strimzi bridge: its produce of 5,000,000 records alone takes 5-15
# minutes on a 2-core machine, depending on what else runs
pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(3600)]

PRODUCED, CONSUMED = 5_000_000, 2_000_000  # the small size


def figure(data: dict, path: str, key: str, unit: str) -> float:
    entry = data[path][key]
    assert entry["unit"] == unit, entry
    return entry["value"]


def test_native_vs_rest_small(built, tmp_path):
    proc, report = invoke_test(tmp_path, "native_vs_rest_performance", timeout=3300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["summary"] == {"PASS": 2, "total": 2}
    tests = by_method(report)

    produce = tests["NativeVsRestProducerPerformance.test_produce"]
    data = produce["data"]
    assert data["size"] == "small" and data["record_size"] == 100 and data["acks"] == 1
    built = manifest.read()["strimzi-kafka-bridge"]
    assert data["bridge"] == {"project": "strimzi-kafka-bridge", "version": "0.33.1", "ref": "0.33.1",
                              "git_sha": built["git_sha"]}
    for path in ("native", "rest"):
        assert figure(data, path, "records_per_sec", "records/s") > 0
        assert figure(data, path, "records", "records") == PRODUCED
        assert figure(data, path, "latency_99th_ms", "ms") >= figure(data, path, "latency_50th_ms", "ms") >= 0
        assert figure(data, path, "mbps", "MB/s") > 0
    assert data["rest"]["errors"] == 0
    assert data["rest"]["requests"] == -(-PRODUCED // data["batch_size"])
    assert data["rest_vs_native_records_per_sec"]["value"] > 0

    consume = tests["NativeVsRestConsumerPerformance.test_consume"]
    data = consume["data"]
    for path in ("native", "rest"):
        assert figure(data, path, "records", "records") == CONSUMED
        assert figure(data, path, "records_per_sec", "records/s") > 0
        assert figure(data, path, "total_mb", "MB") == pytest.approx(CONSUMED * 100 / 2**20, rel=1e-3)

    for test, services in ((produce, ["KafkaService-1/node1/kafka.log", "RestProxyService-1/node2/bridge.log",
                                      "ProducerPerformanceService-1/node3/tool.log",
                                      "RestProducerPerformanceService-1/node3/tool.log"]),
                           (consume, ["ConsumerPerformanceService-1/node3/tool.log",
                                      "RestConsumerPerformanceService-1/node3/tool.log"])):
        folder = os.path.join(session_dir(tmp_path), test["folder"])
        table = open(os.path.join(folder, "native_vs_rest.txt")).read()
        assert "native" in table and "REST" in table and "REST / native records/s" in table
        assert f"REST through strimzi-kafka-bridge 0.33.1 ({built['git_sha'][:12]})" in table.splitlines()[0]
        assert "Strimzi Kafka Bridge 0.33.1 is starting" in open(
            os.path.join(folder, "RestProxyService-1/node2/bridge.log")).read()
        for log in services:
            assert os.path.isfile(os.path.join(folder, log)), log
        assert "Kafka Server started" in open(os.path.join(folder, "KafkaService-1/node1/kafka.log")).read()
    # the comparison tables are shown under each test's line on the console and in report.txt
    assert proc.stdout.count("REST / native records/s") == 2
    assert open(os.path.join(session_dir(tmp_path), "report.txt")).read().count("REST / native records/s") == 2
    print(proc.stdout)
    assert not leftovers(tmp_path)
