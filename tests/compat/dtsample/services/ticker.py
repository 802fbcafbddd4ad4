import os
import signal

from ducktape.cluster.remoteaccount import RemoteCommandError
from ducktape.services.background_thread import BackgroundThreadService
from ducktape.services.service import Service
from ducktape.utils.util import wait_until


class TickerService(Service):
    """A daemon per node found by ps (kafkatest's way), with a rendered config and two logs.
    Its files are under /tmp (ducktape services use fixed paths), one folder per service."""

    def __init__(self, context, num_nodes, greeting):
        super(TickerService, self).__init__(context, num_nodes)
        self.greeting = greeting
        self.ROOT = "/tmp/dtsample-%d-%s" % (os.getpid(), self.service_id)
        self.logs = {"ticker_log": {"path": self.ROOT + "/ticker.log", "collect_default": True},
                     "ticker_config": {"path": self.ROOT + "/ticker.properties", "collect_default": False}}

    def marker(self, node):
        return "dtsample-ticker-%d-%s-%d" % (os.getpid(), self.service_id, self.idx(node))

    def start_node(self, node):
        node.account.mkdirs(self.ROOT)
        node.account.create_file(self.logs["ticker_config"]["path"], self.render("ticker.properties", node=node))
        with node.account.monitor_log(self.logs["ticker_log"]["path"]) as monitor:
            node.account.ssh("nohup sh -c 'echo %s started; while :; do echo tick; sleep 0.2; done' "
                             ">> %s 2>&1 &" % (self.marker(node), self.logs["ticker_log"]["path"]))
            monitor.wait_until("%s started" % self.marker(node), timeout_sec=20, err_msg="ticker did not start")

    def pids(self, node):
        return [int(p) for p in node.account.ssh_capture(
            "ps ax | grep '%s' | grep -v grep | awk '{print $1}'" % self.marker(node),
            allow_fail=True)]

    def stop_node(self, node):
        for pid in self.pids(node):
            node.account.signal(pid, signal.SIGTERM, allow_fail=True)
        wait_until(lambda: not self.alive(node), timeout_sec=20, err_msg="ticker did not stop")
        with open(os.path.join(self.context.local_scratch_dir, "order"), "a") as f:
            f.write("stop %s\n" % self.service_id)

    def clean_node(self, node):
        node.account.remove(self.ROOT, allow_fail=True)


class CounterService(BackgroundThreadService):
    """Reads a command's output in a worker thread, as kafkatest's producers and consumers do."""

    def __init__(self, context, num_nodes, count):
        super(CounterService, self).__init__(context, num_nodes)
        self.count = count
        self.seen = []

    def _worker(self, idx, node):
        output = node.account.ssh_capture("for i in $(seq 1 %d); do echo $i; done; echo to-stderr >&2" % self.count)
        for line in output:
            with self.lock:
                self.seen.append(line.strip())

    def stop_node(self, node):
        with open(os.path.join(self.context.local_scratch_dir, "order"), "a") as f:
            f.write("stop %s\n" % self.service_id)


def failing_command(node):
    try:
        node.account.ssh("echo to-stderr >&2; exit 3")
    except RemoteCommandError as e:
        return e.exit_status
