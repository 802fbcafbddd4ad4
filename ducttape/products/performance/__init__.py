"""Services that load Kafka and measure it: Kafka's own tools, and the REST load generator.

Every one follows the seed's conventions: ``results`` holds one dict per worker (node),
``stats`` the intermediate dicts reported while it runs (each with its ``worker``).
"""

from ducttape.products.performance.consumer import ConsumerPerformanceService
from ducttape.products.performance.end_to_end import EndToEndLatencyService
from ducttape.products.performance.producer import ProducerPerformanceService
from ducttape.products.performance.loadgen import (
    InterleavedProducerLoadService,
    NativeProducerLoadService,
    RestConsumerPerformanceService,
    RestProducerLoadService,
)

__all__ = [
    "ConsumerPerformanceService",
    "EndToEndLatencyService",
    "InterleavedProducerLoadService",
    "NativeProducerLoadService",
    "ProducerPerformanceService",
    "RestConsumerPerformanceService",
    "RestProducerLoadService",
]
