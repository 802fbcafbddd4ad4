"""Fast checks of the product layer: output parsers, templates, bridge choice, input checks."""

from __future__ import annotations

import re

import pytest

from ducttape import secret
from ducttape.errors import ConfigError
from ducttape.products import jvm
from ducttape.products.kafka import KafkaService, new_cluster_id
from ducttape.products.performance.consumer import parse_consumer_line
from ducttape.products.performance.producer import parse_producer_line
from ducttape.products.performance.summary import fell_behind, interval, summarize, suspect
from ducttape.products.rest_bridge import bridge_build
from ducttape.products.scram import Scram, refuse_scram
from ducttape.products.templates import properties_file, properties_value, render
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
                voters="1@127.0.1.1:9093,2@127.0.1.2:9093", log_dir="/d", settings={"num.io.threads": 2},
                scram_mechanism="", scram_jaas="")
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


def test_server_properties_with_scram():
    login = Scram("alice", 'p"w\\ö-long', "SCRAM-SHA-512")
    config = render("kafka-server.properties.j2", service_id="KafkaService-1", address="127.0.1.1", port=9092,
                    controller_port=9093, voters="1@127.0.1.1:9093", log_dir="/d", settings={}, node_id=1,
                    roles="broker,controller", internal_replication=1, scram_mechanism=login.mechanism,
                    scram_jaas=properties_value(login.jaas_config()))
    assert "listeners=SASL_PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9093\n" in config
    assert "inter.broker.listener.name=SASL_PLAINTEXT\n" in config
    assert "sasl.enabled.mechanisms=SCRAM-SHA-512\n" in config
    # JAAS quoting, then .properties escaping: \" for ", \\ for \, then \ doubled and ö as \u00f6
    assert ('listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.'
            'ScramLoginModule required username="alice" password="p\\\\"w\\\\\\\\\\u00f6-long";\n') in config
    # every form of the password in the file is a secret: the file's copy in the results shows none of it
    assert secret.redact(config).count('password="***"') == 1 and "ö" not in secret.redact(config)
    assert repr(login) == "Scram('alice', '***', 'SCRAM-SHA-512')"


def test_scram_inputs_and_client_files():
    for bad, said in ((("al ice", "password1"), "SCRAM user 'al ice'"), (("alice", "pw"), "at least 4 printable"),
                      (("alice", "pass\nword"), "at least 4 printable"),
                      (("alice", "password1", "PLAIN"), "SCRAM mechanism 'PLAIN' is not one of")):
        with pytest.raises(ConfigError, match=said):
            Scram(*bad)
    argument = Scram("alice", "password1").storage_argument()
    assert re.fullmatch(r"SCRAM-SHA-256=\[name=alice,salt=[A-Za-z0-9+/=]{44},saltedpassword=[A-Za-z0-9+/=]{44},"
                        r"iterations=4096\]", argument)
    assert "saltedpassword=***," in secret.redact(argument)
    assert properties_file({"a b=c": " x\\y=é😀"}) == "a\\ b\\=c=\\ x\\\\y=\\u00e9\\ud83d\\ude00\n"


def test_services_that_cannot_log_in_refuse_a_scram_kafka(tmp_path):
    cluster = LocalhostCluster(1, scratch_root=str(tmp_path))
    kafka = KafkaService(cluster, 1, scram=Scram("alice", "password1"))
    with pytest.raises(ConfigError, match="RestProxyService: KafkaService-1 requires a SASL/SCRAM login"):
        refuse_scram(kafka, "RestProxyService")
    refuse_scram(KafkaService(cluster, 1), "RestProxyService")
    refuse_scram(None, "InterleavedProducerLoadService")
    assert kafka.client_settings()["sasl.mechanism"] == "SCRAM-SHA-256"
    assert KafkaService(cluster, 1).client_settings() == {}
    cluster.close()


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
