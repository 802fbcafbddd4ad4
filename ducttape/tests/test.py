"""Base classes of the Kafka scenarios (the runner does not treat this module as a scenario)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from ducttape.products.kafka import KafkaService
from ducttape.products.rest_bridge import RestProxyService
from ducttape.runner import Test


class KafkaTest(Test):
    """Kafka in KRaft mode: ``num_brokers`` brokers (each also a controller) with ``topics``
    and ``kafka_settings``, started in setUp as ``self.kafka`` and stopped in tearDown."""

    num_brokers = 1
    topics: Mapping[str, Mapping] = MappingProxyType({})
    kafka_settings: Mapping[str, object] = MappingProxyType({})

    def setUp(self) -> None:  # noqa: N802
        self.kafka = KafkaService(self.cluster, self.num_brokers, topics=self.topics,
                                  settings=self.kafka_settings)
        self.kafka.start()

    def tearDown(self) -> None:  # noqa: N802
        self.kafka.stop()


class RestProxyTest(KafkaTest):
    """KafkaTest plus ``num_rest`` HTTP bridges (``self.rest``) with ``rest_settings``,
    started after Kafka and stopped before it."""

    num_rest = 1
    rest_settings: Mapping[str, object] = MappingProxyType({})

    def setUp(self) -> None:  # noqa: N802
        super().setUp()
        self.rest = RestProxyService(self.cluster, self.num_rest, self.kafka,
                                     settings=self.rest_settings)
        self.rest.start()

    def tearDown(self) -> None:  # noqa: N802
        try:
            self.rest.stop()
        finally:
            super().tearDown()
