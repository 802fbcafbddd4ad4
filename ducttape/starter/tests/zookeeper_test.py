"""A first scenario: a service of your own, started from your build, checked and measured.

    ducttape build          # ZooKeeper from Maven Central, as projects.yaml says
    ducttape test tests/    # every test_*.py and *_test.py in tests/

It runs on the localhost cluster (logical nodes on 127.0.0.x) unless you pass ``--cluster``.
Replace ZooKeeper with your own program: a project in projects.yaml, a Service that starts it on
a node and knows when it is ready, and tests that use it.
"""

import shlex
import time

from ducttape.products import jvm
from ducttape.runner import Test, cluster
from ducttape.services import Service

PORT = 2181


class ZooKeeper(Service):
    """A standalone ZooKeeper server on each of its nodes."""

    logs = {"output": "server.log", "config": "zoo.cfg"}  # collected into the test's results

    def start_node(self, node):
        node.account.create_file(
            self.path(node, "zoo.cfg"),
            "\n".join(
                [
                    "tickTime=2000",
                    f"dataDir={self.path(node, 'data')}",
                    f"clientPort={PORT}",
                    f"clientPortAddress={node.address}",
                    "admin.enableServer=false",
                    "4lw.commands.whitelist=ruok",
                    "",
                ]
            ),
        )
        self.spawn(
            node, jvm.command(node, "zookeeper", "server", self.path(node, "zoo.cfg"), java_opts=jvm.opts("256m"))
        )
        # ready once it answers "ruok"; fails at once, with the log's tail, if the server exits
        self.wait_for(
            node,
            lambda: self.healthy(node),
            120,
            lambda: f"ZooKeeper on {node.name} did not answer ruok on port {PORT}",
        )

    def healthy(self, node):
        """Whether the server on ``node`` answers ZooKeeper's ``ruok`` with ``imok``."""
        script = f"exec 3<>/dev/tcp/{node.address}/{PORT} && printf ruok >&3 && cat <&3"
        return (
            node.account.run(f"timeout 5 bash -c {shlex.quote(script)}", allow_fail=True, timeout=15).stdout == "imok"
        )

    def client(self, node, *args):
        """Run one zkCli command against the server on ``node``; return its output."""
        return node.account.ssh_output(
            jvm.command(
                node,
                "zookeeper",
                "client",
                "-server",
                f"{node.address}:{PORT}",
                *args,
                java_opts=jvm.opts(jvm.TOOL_HEAP, jvm.TOOL_OPTS),
            ),
            timeout=60,
        )


class ZooKeeperTest(Test):
    """Write a node's data and read it back; measure the server's start."""

    @cluster(num_nodes=1)
    def test_write_and_read(self):
        zk = ZooKeeper(self.cluster, num_nodes=1)
        started = time.monotonic()
        zk.start()
        start_s = time.monotonic() - started
        node = zk.nodes[0]
        zk.client(node, "create", "/hello", "world")  # a failed command fails the test
        value = zk.client(node, "get", "/hello")
        assert "world" in value.split(), f"get /hello gave {value!r}"
        return {"start": {"value": round(start_s, 2), "unit": "s", "better": "lower"}}
