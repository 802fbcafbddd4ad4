"""A Kafka scenario for a cluster whose nodes got their build folder from the automatic sync:
one broker, the Strimzi bridge on a second node, one record produced through the bridge."""

from __future__ import annotations

import json
import shlex
from types import MappingProxyType

from ducttape.runner import cluster
from ducttape.tests.test import RestProxyTest

TOPIC = "synced"


class SyncedBuildTest(RestProxyTest):
    topics = MappingProxyType({TOPIC: {"partitions": 1, "replication-factor": 1}})

    @cluster(num_nodes=2)
    def test_produce_through_the_bridge(self):
        node = self.rest.nodes[0]
        body = json.dumps({"records": [{"key": "k", "value": {"synced": True}}]})
        answer = node.account.ssh_output(
            "curl -s --max-time 60 -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' "
            f"--data {shlex.quote(body)} {shlex.quote(self.rest.url() + '/topics/' + TOPIC)}", timeout=90)
        offsets = json.loads(answer)["offsets"]
        assert offsets == [{"partition": 0, "offset": 0}], answer
        return {"offsets": offsets, "build_dirs": sorted({n.build_dir for n in self.cluster.nodes})}
