"""Scenario fixture: the ways a test goes wrong that its failure must explain by itself.

A small program stands in for a real server (etcd, say): ``fake_server.py`` fails on a flag it
does not know with Go's message and its usage text, or listens on a client and a peer port and
writes long JSON log lines; ``fake_ctl.py`` hangs on ``endpoint status``. Each test breaks one way:
a mistyped flag, a readiness check on the wrong port, a hang in a command on the node, a hang in
Python, an exception in the test itself. DUCTTAPE_BROKEN_PORT: the first of the three ports used.
"""

import os
import posixpath
import threading

from ducttape.runner import Test, cluster
from ducttape.services import Service

PORT = int(os.environ.get("DUCTTAPE_BROKEN_PORT", "23790"))
CLIENT, PEER, WRONG = PORT, PORT + 1, PORT + 2

FAKE_SERVER = r'''
import json, socket, sys, time
known = {"-name", "-listen-client-urls", "-listen-peer-urls"}
flags = dict(arg.split("=", 1) for arg in sys.argv[1:])
for flag in flags:
    if flag.lstrip("-") and "-" + flag.lstrip("-") not in known:
        print("flag provided but not defined: -" + flag.lstrip("-"), file=sys.stderr)
        print("Usage:", file=sys.stderr)
        print("  fake-server [flags]", file=sys.stderr)
        for name in sorted(known):
            print(f"  --{name.lstrip('-')} string", file=sys.stderr)
            print("        a setting of the server (see its documentation)", file=sys.stderr)
        print("  --log-level string", file=sys.stderr)
        print("        one of debug, info, warn, error, panic or fatal", file=sys.stderr)
        sys.exit(2)
servers = [socket.create_server((host, int(port))) for host, port in
           (flags[f].rsplit("//", 1)[1].rsplit(":", 1) for f in ("--listen-client-urls", "--listen-peer-urls"))]
for n in range(3):
    print(json.dumps({"level": "info", "ts": time.time(), "caller": "embed/etcd.go:%d" % (100 + n),
                      "msg": "serving", "padding": "x" * 300}), flush=True)
time.sleep(600)
'''

FAKE_CTL = r'''
import sys, time
if sys.argv[1:] == ["endpoint", "status"]:
    time.sleep(600)
'''


class FakeServer(Service):
    """The stand-in server on one node, started with ``flags``; ready once ``ready_port`` answers."""

    def __init__(self, cluster, flags: str, ready_port: int, timeout: float):
        super().__init__(cluster, num_nodes=1)
        self.flags, self.ready_port, self.timeout = flags, ready_port, timeout

    def start_node(self, node):
        program = self.path(node, "fake_server.py")
        node.account.create_file(program, FAKE_SERVER)
        self.spawn(node, f"python3 {program} {self.flags.format(address=node.address)}")
        self.wait_for_http(node, self.ready_port, "/health", timeout=self.timeout)


def fake_ctl(node) -> str:
    """The stand-in command-line client on ``node``; returns how to run it."""
    path = posixpath.join(node.scratch, "fake_ctl.py")
    node.account.create_file(path, FAKE_CTL)
    return f"python3 {path}"


class BrokenTest(Test):
    @cluster(num_nodes=1)
    def test_mistyped_flag(self):
        FakeServer(self.cluster, f"--name=one --listen-client-url=http://{{address}}:{CLIENT} "
                                 f"--listen-peer-urls=http://{{address}}:{PEER}", CLIENT, 30).start()

    @cluster(num_nodes=1)
    def test_wrong_readiness_port(self):
        FakeServer(self.cluster, f"--name=one --listen-client-urls=http://{{address}}:{CLIENT} "
                                 f"--listen-peer-urls=http://{{address}}:{PEER}", WRONG, 2).start()

    @cluster(num_nodes=1)
    def test_remote_hang(self):
        node = self.cluster.nodes[0]
        node.account.ssh(f"{fake_ctl(node)} endpoint status")  # HANGS IN A REMOTE COMMAND

    @cluster(num_nodes=1)
    def test_python_hang(self):
        wait_for_leader()

    @cluster(num_nodes=1)
    def test_exception(self):
        status = {"members": 3}
        return {"leader": status["leader"]}  # RAISES


def wait_for_leader():
    threading.Event().wait()  # HANGS IN PYTHON
