"""Scenario fixture: parametrized and matrix cases."""

from ducttape.runner import Test, cluster, matrix, parametrize


class ParamsTest(Test):
    @cluster(num_nodes=1)
    @parametrize(size="small", acks=1)
    @parametrize(size="large", acks=-1)
    def test_pair(self, size, acks):
        return {"size": size, "acks": acks}

    @cluster(num_nodes=lambda brokers, **_: brokers + 1)
    @matrix(brokers=[1, 3], compression=["none", "lz4"])
    def test_grid(self, brokers, compression):
        assert len(self.cluster.nodes) == brokers + 1
        return {"brokers": brokers, "compression": compression, "nodes": len(self.cluster.nodes)}
