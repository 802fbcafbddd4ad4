"""Scenarios that must fail, with a clear message, and leave nothing running
(tests/kafka/test_kafka_bad_input.py runs them through `invoke test`)."""

from ducttape.products.kafka import KafkaService
from ducttape.products.rest_bridge import RestProxyService
from ducttape.runner import Test, cluster


class MoreBrokersThanNodes(Test):
    @cluster(num_nodes=2)
    def test_three_brokers_on_two_nodes(self):
        KafkaService(self.cluster, 3).start()


class BridgeWithoutKafka(Test):
    @cluster(num_nodes=2)
    def test_bridge_cannot_reach_kafka(self):
        kafka = KafkaService(self.cluster, 1)
        kafka.start()
        kafka.stop_node(kafka.nodes[0])  # the broker is gone; its node and address stay
        RestProxyService(self.cluster, 1, kafka).start()


class BrokerWithBadConfig(Test):
    @cluster(num_nodes=1)
    def test_broker_refuses_its_config(self):
        KafkaService(self.cluster, 1, settings={"num.partitions": "many"}).start()

    @cluster(num_nodes=1)
    def test_broker_dies_while_starting(self):
        # 192.0.2.1 (TEST-NET-1) is no address of this machine: binding to it fails at once
        KafkaService(self.cluster, 1, settings={
            "listeners": "PLAINTEXT://192.0.2.1:9092,CONTROLLER://127.0.1.1:9093"}).start()
