from ducktape.mark.resource import cluster
from ducktape.tests.test import Test


class ImportedTest(Test):
    @cluster(num_nodes=1)
    def test_imported(self):
        pass
