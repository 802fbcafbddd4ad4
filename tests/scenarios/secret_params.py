"""Scenario fixture: tests that put secrets everywhere a secret could leak: a command line and
its output on a node, a service's command and its log, the test's log, its returned data and its
failure message. tests/core/test_secrets.py checks that none of it reaches results/ or the
console."""

import shlex

from ducttape import secret
from ducttape.runner import Test, cluster
from ducttape.services import Service


class EchoService(Service):
    """Prints its command line's secret to its log, then sleeps."""

    def __init__(self, cluster, password):
        super().__init__(cluster, 1)
        self.password = password

    def start_node(self, node):
        monitor = node.account.monitor_log(self.path(node, self.logs["output"]))
        script = f"echo started with password {shlex.quote(self.password)}; exec sleep 60"
        self.spawn(node, f"sh -c {shlex.quote(script)}")
        self.wait_for_log(node, monitor, "started with", timeout=30)


class SecretParamsTest(Test):
    @cluster(num_nodes=2)
    def test_returns_secrets(self):
        password, url = self.params["scram_password"], self.params["repo"]
        made_here = "runtime-" + password[::-1]
        secret.add(made_here)  # a secret the test makes itself
        EchoService(self.cluster, password).start()
        node = self.cluster.nodes[0]
        out = node.account.ssh_output(
            f"echo kafka-configs --add-config {shlex.quote(f'SCRAM-SHA-256=[password={password}]')} "
            f"{shlex.quote(url)} {made_here}")
        self.logger.info("altered user alice: %s", out.strip())
        return {"output": out, "password": password, "url": url, "made": made_here}

    @cluster(num_nodes=1)
    def test_fails_with_secrets(self):
        password = self.params["scram_password"]
        self.cluster.nodes[0].account.ssh(f"echo {shlex.quote(password)} >&2; exit 3")
