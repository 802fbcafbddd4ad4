"""Scenario fixture: one test needs more nodes than any small cluster has."""

from ducttape.runner import Test, cluster


class SizesTest(Test):
    @cluster(num_nodes=50)
    def test_huge(self):
        return {"ran": True}

    @cluster(num_nodes=1)
    def test_small(self):
        return {"ran": True}


class UndeclaredTest(Test):
    def test_takes_everything(self):
        return {"nodes": len(self.cluster.nodes)}
