"""Scenario: a Kafka broker that requires SASL/SCRAM, its password a session parameter
(``--param scram_password=...``), the code's git URL with a token a global (``repo``).
tests/kafka/test_kafka_scram.py runs it and looks for both everywhere a session writes."""

from ducttape.products.kafka import KafkaService
from ducttape.products.scram import Scram
from ducttape.products.verifiable import VerifiableConsumerService, VerifiableProducerService
from ducttape.runner import Test, cluster

RECORDS = 5


class ScramTest(Test):
    @cluster(num_nodes=2)
    def test_records_go_through_with_the_password_only(self):
        password = self.params["scram_password"]
        self.logger.info("testing the code of %s", self.params["repo"])
        kafka = KafkaService(self.cluster, 1, scram=Scram("alice", password), topics={"secured": {"partitions": 1}})
        kafka.start()  # the topic is made by the topics tool, logged in with the password
        self.logger.info("clients log in with %s", kafka.client_settings())

        wrong = Scram("alice", "not-" + password)
        intruder = VerifiableProducerService(self.cluster, 1, kafka, "secured", max_messages=1,
                                             settings=wrong.client_settings(), timeout=120)
        intruder.run()
        assert intruder.num_acked() == 0, f"a wrong password produced {intruder.acked}"

        producer = VerifiableProducerService(self.cluster, 1, kafka, "secured", max_messages=RECORDS, timeout=120)
        producer.run()
        assert producer.num_acked() == RECORDS, f"acked {producer.acked}, not acked {producer.last_errors}"
        consumer = VerifiableConsumerService(self.cluster, 1, kafka, "secured", max_messages=RECORDS, timeout=120)
        consumer.run()
        assert not consumer.missing(producer.acked), f"not consumed: {consumer.missing(producer.acked)}"
        return {"refused": intruder.last_errors, "acked": producer.acked, "consumed": sorted(consumer.consumed),
                "login": kafka.client_settings(), "repo": self.params["repo"]}
