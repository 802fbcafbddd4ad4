"""ducktape marks and cluster specs as kafkatest and ducktape's documentation use them: a test
that needs no nodes, nodes of given types, @defaults, @env, mark_for_collect, and the JVMs a
ducktape-style service starts (for --jvm-logs)."""

from ducktape.cluster.cluster_spec import ClusterSpec
from ducktape.mark import defaults, env, matrix
from ducktape.mark.resource import cluster
from ducktape.services.service import Service
from ducktape.tests.test import Test


class NoteService(Service):
    """Writes two files per node: one collected by default, one only when marked or failed."""

    def __init__(self, context, num_nodes=None, cluster_spec=None):
        super(NoteService, self).__init__(context, num_nodes=num_nodes, cluster_spec=cluster_spec)
        self.ROOT = "/tmp/dtmarks-%s" % self.service_id
        self.logs = {"notes": {"path": self.ROOT + "/notes.log", "collect_default": True},
                     "debug": {"path": self.ROOT + "/debug.log", "collect_default": False}}

    def start_node(self, node):
        node.account.mkdirs(self.ROOT)
        node.account.create_file(self.logs["notes"]["path"], "notes\n")
        node.account.create_file(self.logs["debug"]["path"], "debug\n")

    def stop_node(self, node):
        pass

    def clean_node(self, node):
        node.account.remove(self.ROOT, allow_fail=True)


class MarksTest(Test):
    @cluster(num_nodes=0)
    def test_needs_no_nodes(self):
        assert len(self.test_context.cluster) == 0

    @cluster(cluster_spec=ClusterSpec.empty())
    def test_empty_spec(self):
        assert len(self.test_context.cluster) == 0

    @cluster(cluster_spec=ClusterSpec.simple_linux(2, node_type="broker").add(ClusterSpec.simple_linux(1)))
    def test_typed(self):
        brokers = NoteService(self.test_context, cluster_spec=ClusterSpec.simple_linux(2, node_type="broker"))
        other = NoteService(self.test_context, num_nodes=1)
        brokers.start()
        other.start()
        assert [n.node.type for n in brokers.nodes] == ["broker", "broker"]
        self.mark_for_collect(other, "debug")
        return {"brokers": [n.name for n in brokers.nodes], "other": [n.name for n in other.nodes]}

    @cluster(num_nodes=1)
    @defaults(size=[1, 2])
    @matrix(kind=["a"])
    def test_defaults(self, kind, size):
        assert kind == "a" and size in (1, 2)

    @env(DTMARKS_NEVER_SET="yes")
    @cluster(num_nodes=1)
    def test_only_with_env(self):
        raise AssertionError("@env should have kept this test from running")

    @cluster(num_nodes=1)
    def test_java(self):
        node = self.test_context.cluster.alloc(ClusterSpec.simple_linux(1))[0]
        out = node.account.ssh_output("java -Xmx32m -version").decode()
        assert "version" in out
        self.test_context.cluster.free(node)
