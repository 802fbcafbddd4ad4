"""Scenario fixture: a test stuck (pure Python, time.sleep, or a remote `sleep 600`) that hits
--timeout, then a test on the same node that checks nothing of it is left.

DUCTTAPE_STUCK_MODE: python | sleep | remote. DUCTTAPE_TEST_MARKER: digits that every process
the stuck test starts on its node carries on its command line. DUCTTAPE_STUCK_STATE: a folder
where the stuck test leaves its process id for the next one.
"""

import os
import posixpath
import time

from ducttape.runner import Test, cluster
from ducttape.services import Service

MODE = os.environ.get("DUCTTAPE_STUCK_MODE", "python")
MARKER = os.environ.get("DUCTTAPE_TEST_MARKER", "0")
STATE = os.environ.get("DUCTTAPE_STUCK_STATE", "/tmp")


def trace_path(node):
    return posixpath.join(node.scratch, "stuck-trace")


class SleeperService(Service):
    def start_node(self, node):
        self.spawn(node, f"sh -c 'sleep 600; echo ducttape-{MARKER}'")


class StuckTest(Test):
    @cluster(num_nodes=1)
    def test_stuck(self):
        node = self.cluster.nodes[0]
        with open(os.path.join(STATE, "pid"), "w") as f:
            f.write(str(os.getpid()))
        SleeperService(self.cluster, num_nodes=1).start()
        self.logger.info("stuck now (%s)", MODE)
        if MODE == "python":
            written, n = 0.0, 0
            while True:  # busy in Python, writing a trace on the node now and then
                n += 1
                if time.monotonic() - written > 0.2:
                    node.account.create_file(trace_path(node), f"{n}\n")
                    written = time.monotonic()
        elif MODE == "sleep":
            time.sleep(10 ** 6)
        else:  # blocked in a command on the node; GNU sleep adds up its arguments
            node.account.ssh(f"sleep 600 0.{MARKER}", timeout=3600)


class NextTest(Test):
    @cluster(num_nodes=1)
    def test_next(self):
        """Sees nothing of the stuck test: its process, its commands and service are gone, its
        trace no longer changes, its service's folder was cleaned."""
        node = self.cluster.nodes[0]
        with open(os.path.join(STATE, "pid")) as f:
            pid = int(f.read())
        try:
            os.kill(pid, 0)
            stuck_process = "running"
        except ProcessLookupError:
            stuck_process = "gone"
        # one command (--timeout 3 applies to this test too): the trace, read twice 0.5 s apart
        # (an observation window: the stuck test wrote it every 0.2 s), the service's folder and
        # any process with the marker
        trace = f'echo "trace: $(cat {trace_path(node)} 2>/dev/null)"'
        out = node.account.ssh_output(
            f"{trace}; sleep 0.5; {trace}; "
            f"test -e {posixpath.join(node.scratch, 'SleeperService-1')} && echo service folder; "
            f"pgrep -f '[-.]{MARKER}' || true").splitlines()
        seen = {"stuck_process": stuck_process, "trace_changed": out[0] != out[1],
                "marked_processes": [line for line in out[2:] if line.isdigit()],
                "service_folder": "service folder" in out}
        assert seen == {"stuck_process": "gone", "trace_changed": False, "marked_processes": [],
                        "service_folder": False}, seen
        return seen


