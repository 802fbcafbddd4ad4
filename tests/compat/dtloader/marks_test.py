"""ducktape's discovery rules in one module: collected the same by ducktape 0.12 and ducttape
(tests/compat/test_collect_like_ducktape.py). Nothing here runs."""

from ducktape.cluster.cluster_spec import ClusterSpec
from ducktape.mark import defaults, env, ignore, matrix, parametrize
from ducktape.mark.resource import cluster
from ducktape.tests.test import Test

from dtloader.imported import ImportedTest  # noqa: F401 - a leaf test class imported here is collected here too


class Base(Test):
    """Has subclasses, so it is no test class; its methods are inherited."""

    @cluster(num_nodes=1)
    def test_inherited(self):
        pass


class MarksTest(Base):
    @cluster(num_nodes=1)
    @defaults(z=[1, 2])
    @matrix(x=[1], y=[1, 2])
    @parametrize(x=3, y=4)
    @parametrize(x=3, y=4, z=999)
    def test_defaults(self, x, y, z):
        pass

    @ignore(x=2)
    @cluster(num_nodes=2)
    @parametrize(x=1)
    @cluster(cluster_spec=ClusterSpec.simple_linux(3))
    @parametrize(x=2)
    @matrix(x=[3, 4], y=["a b", "c/d"])
    def test_stacked(self, x, y=None):
        pass

    @ignore
    @cluster(num_nodes=1)
    def test_ignored(self):
        pass

    @env(DUCTTAPE_NO_SUCH_VARIABLE="set")
    @cluster(num_nodes=1)
    def test_env(self):
        pass

    @cluster(num_nodes=2)
    def a_name_ending_in_test(self):
        pass

    @matrix(v=[[1, 2], (3, "x y")], w="ab")
    def test_escaped_and_undeclared(self, v, w):
        pass

    def helper(self):
        pass

    test_not_callable = 5


class OtherLeaf(Base):
    pass
