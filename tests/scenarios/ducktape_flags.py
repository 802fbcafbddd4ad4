"""Scenario fixture for ducktape's flags and marks under `invoke test`: ten numbered tests (one
fails when --param fail_at=N says so), tagged tests, known failures, a test on typed nodes, one
that declares more nodes than it uses, a service with a default and a non-default log, and a
JVM that runs out of memory."""

import posixpath

from ducttape.runner import Test, cluster, known_failure, matrix, tag
from ducttape.services import Service


class Numbered(Test):
    @tag("numbered")
    @cluster(num_nodes=0)
    @matrix(n=list(range(10)))
    def test_n(self, n):
        if self.params.get("fail_at") == n:
            raise AssertionError(f"fails at {n} as asked")
        return {"n": n}


class Tagged(Test):
    @tag("kafka")
    @cluster(num_nodes=1)
    def test_kafka(self):
        pass

    @tag("kafka", "slow")
    @cluster(num_nodes=1)
    def test_kafka_slow(self):
        pass

    @tag("slow")
    @cluster(num_nodes=1)
    def test_slow(self):
        pass


@tag("known")
class Known(Test):
    @known_failure("https://example.org/issues/1")
    @cluster(num_nodes=1)
    def test_fails_as_known(self):
        raise AssertionError("still broken")

    @known_failure("fixed meanwhile")
    @cluster(num_nodes=1)
    def test_passes_now(self):
        pass


class Typed(Test):
    @tag("typed")
    @cluster(node_types={"broker": 2, "client": 1})
    def test_typed(self):
        brokers = self.cluster.request(2, "broker")
        client = self.cluster.request(1, "client")
        return {"brokers": [n.name for n in brokers], "client": [n.name for n in client],
                "types": sorted(n.type for n in self.cluster.nodes)}


class Wasteful(Test):
    @tag("wasteful")
    @cluster(num_nodes=3)
    def test_uses_one(self):
        self.cluster.free(self.cluster.request(1))


class Sleeper(Service):
    """One ``sleep`` per node; its ``output`` log is collected after a pass, ``extra`` only when
    the test marks it or fails."""

    logs = {"output": "service.log", "extra": "extra.log"}
    collect_default = frozenset({"output"})

    def start_node(self, node):
        node.account.create_file(self.path(node, "extra.log"), "extra words\n" * 200)
        monitor = node.account.monitor_log(self.path(node, "service.log"))
        self.spawn(node, "sh -c 'echo sleeping && exec sleep 300'")
        self.wait_for_log(node, monitor, "sleeping", timeout=30)


class Logs(Test):
    @tag("logs")
    @cluster(num_nodes=1)
    def test_logs(self):
        sleeper = Sleeper(self.cluster)
        sleeper.start()
        if self.params.get("mark"):
            self.context.mark_for_collect(sleeper, "extra")
        if self.params.get("stop_early"):
            sleeper.stop()
        if self.params.get("fail"):
            raise AssertionError("fails as asked")


OOM = """
import java.util.ArrayList;
public class Oom {
    public static void main(String[] args) {
        ArrayList<long[]> kept = new ArrayList<>();
        while (true) kept.add(new long[1 << 16]);
    }
}
"""


class Jvm(Test):
    @tag("jvm")
    @cluster(num_nodes=1)
    def test_out_of_memory(self):
        node = self.cluster.nodes[0]
        folder = posixpath.join(node.scratch, "oom")
        node.account.create_file(posixpath.join(folder, "Oom.java"), OOM)
        node.account.ssh(f"cd {folder} && javac Oom.java && java -Xmx16m -cp . Oom", timeout=120)
