"""Fast checks of the product layer: output parsers, templates, bridge choice, input checks."""

from __future__ import annotations

import re

import pytest

from ducttape.errors import ConfigError
from ducttape.products import jvm
from ducttape.products.kafka import KafkaService, new_cluster_id
from ducttape.products.performance.consumer import parse_consumer_line
from ducttape.products.performance.producer import parse_producer_line
from ducttape.products.performance.summary import fell_behind, interval, summarize, suspect
from ducttape.products.rest_bridge import bridge_build
from ducttape.products.templates import render
from ducttape.cluster.localhost import LocalhostCluster


def test_producer_lines():
    assert parse_producer_line("451202 records sent, 90240.4 records/sec (8.61 MB/sec), "
                               "1267.6 ms avg latency, 1928.0 ms max latency.") == {
        "records": 451202, "records_per_sec": 90240.4, "mbps": 8.61,
        "latency_avg_ms": 1267.6, "latency_max_ms": 1928.0}
    final = parse_producer_line(
        "1000000 records sent, 125565.0 records/sec (11.97 MB/sec), 1486.10 ms avg latency, "
        "1948.00 ms max latency, 1606 ms 50th, 1828 ms 95th, 1913 ms 99th, 1942 ms 99.9th.")
    assert final["records"] == 1000000 and final["latency_99th_ms"] == 1913.0
    assert final["latency_999th_ms"] == 1942.0 and final["latency_50th_ms"] == 1606.0
    assert parse_producer_line("[2026-11-28] WARN something") is None


def test_consumer_summary_line():
    header = ("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
              "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
    assert parse_consumer_line(header) is None
    assert parse_consumer_line(
        "2026-11-28 04:41:03:253, 2026-11-28 04:41:05:928, 95.3674, 35.6514, 1000000, 373831.7757, "
        "518, 2157, 44.2130, 463606.8614") == {
        "records": 1000000, "records_per_sec": 373831.7757, "mbps": 35.6514, "total_mb": 95.3674,
        "rebalance_ms": 518.0, "fetch_records_per_sec": 463606.8614}


def test_server_properties_for_combined_and_controller_only_nodes():
    args = dict(service_id="KafkaService-1", address="127.0.1.2", port=9092, controller_port=9093,
                voters="1@127.0.1.1:9093,2@127.0.1.2:9093", log_dir="/d", settings={"num.io.threads": 2})
    combined = render("kafka-server.properties.j2", node_id=2, roles="broker,controller",
                      internal_replication=1, **args)
    assert "listeners=PLAINTEXT://127.0.1.2:9092,CONTROLLER://127.0.1.2:9093\n" in combined
    assert "advertised.listeners=PLAINTEXT://127.0.1.2:9092\n" in combined
    assert "transaction.state.log.min.isr=1\n" in combined and combined.endswith("num.io.threads=2\n")
    controller = render("kafka-server.properties.j2", node_id=3001, roles="controller",
                        internal_replication=3, **args)
    assert "listeners=CONTROLLER://127.0.1.2:9093\n" in controller and "PLAINTEXT://" not in controller
    assert "offsets.topic.replication.factor=3\n" in controller and "transaction.state.log.min.isr=2\n" in controller
    with pytest.raises(Exception, match="undefined"):
        render("kafka-server.properties.j2", node_id=1)


def test_bridge_build_from_manifest():
    ok = {"status": "ok", "main_classes": {"bridge": "x"}, "version": "0.33.1", "ref": "0.33.1",
          "git_sha": "f" * 40}
    assert bridge_build({"strimzi-kafka-bridge": ok}) == {
        "project": "strimzi-kafka-bridge", "version": "0.33.1", "ref": "0.33.1", "git_sha": "f" * 40}
    for built in ({"kafka": ok}, {"strimzi-kafka-bridge": {**ok, "status": "failed"}}):
        with pytest.raises(ConfigError, match=r"bridge is not built: run `invoke build --only strimzi-kafka-bridge`"):
            bridge_build(built)


def test_cluster_ids_look_like_kafkas():
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200 and all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", i) for i in ids)


def test_topic_specs_are_checked(tmp_path):
    cluster = LocalhostCluster(1, scratch_root=str(tmp_path))
    with pytest.raises(ConfigError, match="topic 't': unknown key 'replication_factor'"):
        KafkaService(cluster, 1, topics={"t": {"replication_factor": 3}})
    kafka = KafkaService(cluster, 1, topics={"t": {"partitions": 6, "replication-factor": 1}})
    assert kafka.topics == {"t": {"partitions": 6, "replication_factor": 1, "configs": {}}}
    cluster.close()


def test_jvm_summary_leaves_stack_frames_out():
    output = ("Exception in thread \"main\" java.lang.IllegalStateException: boom\n"
              "\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\nCaused by: java.io.IOException: disk\n\t... 3 more\n")
    assert jvm.summary(output) == ('Exception in thread "main" java.lang.IllegalStateException: boom | '
                                   "Caused by: java.io.IOException: disk")


def at_rate(target: float, achieved: list[float], p99: list[float], unsent: int = 0) -> dict:
    return summarize([{"target_records_per_sec": target, "records_per_sec": a, "latency_99th_ms": p,
                       "records_unsent": unsent} for a, p in zip(achieved, p99, strict=True)])


def test_a_load_achieved_below_97_percent_fell_behind_even_with_nothing_unsent():
    assert not fell_behind(at_rate(1000, [990, 975, 1001, 980, 995, 999, 985], [5] * 7))
    assert fell_behind(at_rate(1000, [960, 965, 950, 990, 940, 962, 969], [5] * 7))
    assert fell_behind(at_rate(1000, [1000] * 7, [5] * 7, unsent=3)), "records left unsent"


def test_a_curve_whose_p99_drops_below_its_interval_as_the_load_rises_is_suspect():
    low = at_rate(100, [100] * 7, [40, 42, 45, 41, 43, 44, 46])
    mid = at_rate(1000, [1000] * 7, [20, 22, 21, 23, 19, 24, 20])  # wholly below 40-46
    high = at_rate(5000, [5000] * 7, [30, 60, 41, 50, 44, 90, 47])  # overlaps both
    assert suspect([high, low, mid]) == [(100, 1000)]
    assert suspect([low, high]) == []
    assert interval(mid["latency_99th_ms"]) == "21.0 [19.0, 24.0] unstable"
