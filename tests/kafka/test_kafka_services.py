"""The product services through their Python API: separate KRaft controllers, leader changes,
end-to-end latency, and the same services on a cluster reached over SSH."""

from __future__ import annotations

import json

import pytest

from ducttape.build import layout
from ducttape.cluster import load_cluster
from ducttape.cluster.localhost import LocalhostCluster, loopback_net
from ducttape.products.kafka import KafkaService
from ducttape.products.performance import (ConsumerPerformanceService, EndToEndLatencyService,
                                           ProducerPerformanceService)
from ducttape.products.zookeeper import ZookeeperService
from ducttape.remote.account import poll
from ducttape.runner.context import TestContext
from kafka_helpers import leftovers

NET = loopback_net()

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def localhost(tmp_path):
    cluster = LocalhostCluster(5, scratch_root=str(tmp_path / "scratch"))
    with TestContext(cluster):  # stops the test's services, newest first
        yield cluster
    cluster.close()
    assert not leftovers(tmp_path)


def test_brokers_with_separate_controllers(built, localhost):
    kafka = KafkaService(localhost, 2, controllers=1, topics={
        "replicated": {"partitions": 2, "replication-factor": 2, "configs": {"min.insync.replicas": 1}}})
    kafka.start()
    assert [n.name for n in kafka.quorum.nodes] == ["node1"] and [n.name for n in kafka.nodes] == ["node2", "node3"]
    assert kafka.voters() == f"3001@{NET}.1:9093"
    assert kafka.bootstrap_servers() == f"{NET}.2:9092,{NET}.3:9092"
    controller = kafka.quorum.nodes[0].account.read_file(kafka.quorum.path(kafka.quorum.nodes[0], "server.properties"))
    assert "process.roles=controller\n" in controller and "node.id=3001\n" in controller
    assert "process.roles=broker\n" in kafka.nodes[0].account.read_file(kafka.path(kafka.nodes[0], "server.properties"))

    partitions = kafka.describe_topic("replicated")
    assert [p["partition"] for p in partitions] == [0, 1]
    assert all(sorted(p["replicas"]) == [1, 2] and sorted(p["isr"]) == [1, 2] for p in partitions)

    e2e = EndToEndLatencyService(localhost, 1, kafka, "latency", num_records=500)
    e2e.run()
    result = e2e.results[0]
    assert result["records"] == 500 and result["latency_999th_ms"] >= result["latency_50th_ms"] >= 0

    leader = kafka.leader("replicated", 0)
    old_pid = kafka.pids(leader)
    kafka.stop_node(leader, clean_shutdown=False)  # kill -9
    poll(lambda: kafka.leader("replicated", 0) not in (None, leader), 120,
         lambda: "no other broker took over partition 0")
    kafka.start_node(leader)
    assert kafka.pids(leader) and kafka.pids(leader) != old_pid
    poll(lambda: len(kafka.describe_topic("replicated")[0]["isr"]) == 2, 120,
         lambda: "the restarted broker did not rejoin the ISR")
    kafka.stop()
    assert localhost.num_available == 5 and not kafka.quorum.nodes


@pytest.mark.ssh
def test_services_on_a_cluster_over_ssh(built, sshd, tmp_path):
    nodes = [{"name": f"host{i}", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
              "key_file": sshd["key_file"], "address": f"127.0.2.{i}",
              "scratch": str(tmp_path / "scratch" / f"host{i}"), "build_dir": str(layout.build_dir())}
             for i in (1, 2)]
    (tmp_path / "cluster.json").write_text(json.dumps({"nodes": nodes, "known_hosts": sshd["known_hosts"]}))
    cluster = load_cluster(f"json:{tmp_path / 'cluster.json'}")
    try:
        with TestContext(cluster):  # stops the test's services, newest first
            zk = ZookeeperService(cluster, 1)
            zk.start()
            assert zk.mode(zk.nodes[0]) == "standalone" and zk.connect_setting() == "127.0.2.1:2181"
            zk.stop()

            kafka = KafkaService(cluster, 1, topics={"over-ssh": {"partitions": 3}})
            kafka.start()
            assert kafka.bootstrap_servers() == "127.0.2.1:9092"
            producer = ProducerPerformanceService(cluster, 1, kafka, "over-ssh", 20000, 100,
                                                  settings={"acks": 1})
            producer.run()
            assert producer.results[0]["records"] == 20000 and producer.results[0]["records_per_sec"] > 0
            consumer = ConsumerPerformanceService(cluster, 1, kafka, "over-ssh", 20000)
            consumer.run()
            assert consumer.results[0]["records"] == 20000
            kafka.stop()
    finally:
        cluster.close()
    assert not leftovers(tmp_path)
