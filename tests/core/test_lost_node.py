"""Nodes that die or go silent mid-command: the call ends within seconds with "connection lost",
without spinning, and the account connects again once the node is back. Checked on a private
sshd per test, whose serving processes the test kills (a crash) or pauses (a silent cut)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import pytest

from ducttape.cluster import Cluster, Node, load_cluster
from ducttape.errors import ClusterError, ConfigError
from ducttape.remote import ConnectionLostError, LocalAccount, RemoteCommandError, SshAccount
from ducttape.remote.host_keys import KnownHosts
from ducttape.remote.account import poll
from ducttape.services import BackgroundThreadService

from support import REPO, Sshd, cpu_seconds

pytestmark = pytest.mark.ssh
SCENARIO = os.path.join(REPO, "tests", "scenarios", "lost_node.py")
CLOSED_BY_NODE = ("(the node closed the connection)", "(Connection reset by peer)")  # FIN or RST


@pytest.fixture
def node_sshd(tmp_path):
    """An sshd of the test's own, to kill or pause."""
    server = Sshd(tmp_path / "node-sshd").start()
    yield server
    server.stop()


def account_on(server: Sshd, **kwargs) -> SshAccount:
    return SshAccount("doomed", "127.0.0.1", user=server.user, port=server.port,
                      key_file=server.key_file, known_hosts=KnownHosts(server.known_hosts), **kwargs)


def cut_when_running(pid_file, cut) -> dict:
    """In a thread: once ``pid_file`` exists (the command runs), call ``cut()``; the returned dict
    gets the monotonic time of the cut and the pid of the command."""
    done: dict = {}

    def watch():
        poll(lambda: os.path.exists(pid_file) and os.path.getsize(pid_file) > 0, 30,
             lambda: f"{pid_file} never appeared")
        done["pid"] = int(open(pid_file).read())
        done["at"] = time.monotonic()
        cut()

    threading.Thread(target=watch, daemon=True).start()
    return done


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_killed_sshd_ends_the_call_at_once_and_the_account_reconnects(node_sshd, tmp_path):
    account = account_on(node_sshd)
    pid_file = tmp_path / "cmd.pid"
    cut = cut_when_running(pid_file, lambda: node_sshd.signal_serving(signal.SIGKILL))
    cmd = f"echo $$ > {pid_file}; exec sleep 60"
    with pytest.raises(ConnectionLostError) as err:
        account.ssh(cmd, timeout=120)
    after_cut = time.monotonic() - cut["at"]
    kill_quietly(cut["pid"])
    assert after_cut < 5, f"noticed {after_cut:.1f}s after the kill"
    message = str(err.value)
    assert message.startswith(f"on doomed: `{cmd}` connection lost after ")
    assert message.endswith(CLOSED_BY_NODE) and "\n" not in message
    assert isinstance(err.value, RemoteCommandError) and err.value.exit_status is None
    # The listener still runs: the next call connects again.
    assert account.ssh_output("echo again").strip() == "again"
    # The node goes down for good: one clear error; back on the same port: used again.
    node_sshd.stop()
    with pytest.raises(ClusterError, match=f"cannot connect to node doomed at root@127.0.0.1:{node_sshd.port}"):
        account.ssh("true", timeout=30)
    node_sshd.start()
    assert account.ssh_output("echo back").strip() == "back"
    account.close()


def test_paused_sshd_is_found_by_keepalives_without_spinning(node_sshd, tmp_path):
    interval, count = 0.5, 2
    account = account_on(node_sshd, keepalive_interval=interval, keepalive_count_max=count)
    account.ssh("true")
    pid_file = tmp_path / "cmd.pid"
    cpu = {}

    def pause():
        cpu["at_cut"] = time.process_time()
        node_sshd.signal_serving(signal.SIGSTOP)

    cut = cut_when_running(pid_file, pause)
    with pytest.raises(ConnectionLostError, match=r"\(no answer to keepalives for 1s \(2 x 0.5s\)\)"):
        account.ssh(f"echo $$ > {pid_file}; exec sleep 60", timeout=120)
    waited, used = time.monotonic() - cut["at"], time.process_time() - cpu["at_cut"]
    kill_quietly(cut["pid"])
    # Unanswered for interval x count after a probe sent at most one interval after the cut.
    assert interval * count <= waited < interval * (count + 1) + 3, f"found after {waited:.1f}s"
    assert used < 0.1 * waited, f"{used:.2f}s of CPU in {waited:.1f}s of waiting"
    assert account.ssh_output("echo again").strip() == "again"  # a new connection, new sshd child
    account.close()


def test_a_silent_node_costs_one_connect_timeout_then_fails_at_once(node_sshd):
    account = account_on(node_sshd, keepalive_interval=0.5, keepalive_count_max=2, connect_timeout=2)
    account.ssh("true")
    silenced = [node_sshd.proc.pid] + node_sshd.serving_pids()  # the whole node: listener too
    for pid in silenced:
        os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises(ClusterError, match="cannot connect to node doomed"):
            account.ssh("true", timeout=60)  # keepalives drop the connection, then no answer
        first = time.monotonic() - start
        start = time.monotonic()
        with pytest.raises(ClusterError, match=r"s ago; not tried again for 2s\); check that"):
            account.ssh("true", timeout=60)  # what a teardown's calls meet: no second wait
        again = time.monotonic() - start
    finally:
        for pid in silenced:
            os.kill(pid, signal.SIGCONT)
    assert 2 <= first < 10 and again < 0.5, (first, again)
    # Once the window has passed, a call tries again, and the node answers.
    start = time.monotonic()

    def answers() -> bool:
        try:
            return account.ssh("true", timeout=30) == 0
        except ClusterError:
            return False

    poll(answers, 30, lambda: "the node was never used again")
    assert time.monotonic() - start < 10
    account.close()


def test_streams_end_with_connection_lost(node_sshd, tmp_path):
    account = account_on(node_sshd)
    pid_file = tmp_path / "cmd.pid"
    lines = account.ssh_capture(f"echo one; echo $$ > {pid_file}; exec sleep 60", timeout=120)
    assert next(lines) == "one"
    cut = cut_when_running(pid_file, lambda: node_sshd.signal_serving(signal.SIGKILL))
    with pytest.raises(ConnectionLostError, match="connection lost after"):
        next(lines)
    assert time.monotonic() - cut["at"] < 5
    kill_quietly(cut["pid"])
    account.close()


class Reader(BackgroundThreadService):
    """A worker that reads a remote command's output until it ends."""

    def _worker(self, idx, node):
        script = f"echo $$ > {node.scratch}/cmd.pid; exec sleep 60"
        for _line in self.capture(node, f"sh -c {shlex.quote(script)}", timeout=120):
            pass


def test_background_worker_ends_with_connection_lost(node_sshd, tmp_path):
    account = account_on(node_sshd)
    cluster = Cluster([Node("doomed", account, "127.0.0.1", str(tmp_path), str(tmp_path))])
    reader = Reader(cluster, num_nodes=1)
    cut = cut_when_running(tmp_path / "cmd.pid", lambda: node_sshd.signal_serving(signal.SIGKILL))
    reader.start()
    with pytest.raises(ConnectionLostError, match="on doomed: .* connection lost after"):
        reader.wait(timeout=60)
    assert time.monotonic() - cut["at"] < 5
    reader.stop()  # the runner's teardown: the node answers again (its listener still runs)
    kill_quietly(cut["pid"])
    cluster.close()


def test_a_log_monitor_on_a_silent_node_ends_instead_of_hanging(node_sshd, tmp_path):
    account = account_on(node_sshd, keepalive_interval=0.5, keepalive_count_max=2, connect_timeout=2)
    monitor = account.monitor_log(str(tmp_path / "app.log"))
    os.kill(node_sshd.proc.pid, signal.SIGSTOP)  # the whole node goes silent: listener too
    node_sshd.signal_serving(signal.SIGSTOP)
    start = time.monotonic()
    # A poll in flight loses its connection; a poll between two finds no node to connect to.
    with pytest.raises((ConnectionLostError, ClusterError)) as err:
        monitor.wait_until("never", timeout=60)
    assert time.monotonic() - start < 10
    assert re.search(r"connection lost after .*\(no answer to keepalives|cannot connect to node doomed",
                     str(err.value))
    os.kill(node_sshd.proc.pid, signal.SIGCONT)
    account.close()


def reading(path) -> bool:
    """Whether this process has ``path`` open and has read some of it (from /proc)."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                with open(f"/proc/self/fdinfo/{fd}") as f:
                    return int(f.readline().split()[1]) > 0
        except OSError:
            continue
    return False


def test_file_copies_end_with_connection_lost_and_leave_no_partial_file(node_sshd, tmp_path):
    account = account_on(node_sshd, keepalive_interval=0.5, keepalive_count_max=2)
    # An upload (to /dev/null: nothing to clean) that the node stops answering half-way.
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(4 << 30)  # sparse: seconds of copying, no disk
    outcome: dict = {}

    def upload():
        try:
            account.copy_to(str(big), "/dev/null")
        except Exception as exc:  # noqa: BLE001 - checked below
            outcome["error"] = exc

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    poll(lambda: reading(big), 30, lambda: "the upload never started")
    cut_at = time.monotonic()
    node_sshd.signal_serving(signal.SIGSTOP)
    uploader.join(30)
    assert isinstance(outcome.get("error"), ConnectionLostError), outcome
    assert re.search(r"`\(sftp\) copy .*big.bin to /dev/null` connection lost after .* "
                     r"\(no answer to keepalives", str(outcome["error"]))
    assert time.monotonic() - cut_at < 10
    # A download that the node stops serving half-way: nothing half-written is left.
    fifo, pid_file = tmp_path / "fifo", tmp_path / "cmd.pid"
    os.mkfifo(fifo)
    feed = f"exec sh -c 'head -c 1000000 {big}; echo $$ > {pid_file}; exec sleep 60' > {fifo}"

    def feeder():
        with contextlib.suppress(ConnectionLostError):  # its connection is cut too
            account.ssh(feed, timeout=120)

    threading.Thread(target=feeder, daemon=True).start()
    cut = cut_when_running(pid_file, lambda: node_sshd.signal_serving(signal.SIGKILL))
    target = tmp_path / "down" / "copy.bin"
    with pytest.raises(ConnectionLostError, match=r"`cat -- .*fifo` connection lost after"):
        account.copy_from(str(fifo), str(target))
    assert time.monotonic() - cut["at"] < 5
    assert not target.exists()
    kill_quietly(cut["pid"])
    account.close()


@pytest.mark.parametrize("kind", ["local", "ssh"])
def test_a_killed_command_names_its_signal(kind, sshd, tmp_path):
    account = LocalAccount("node1") if kind == "local" else SshAccount(
        "node1", "127.0.0.1", user=sshd["user"], port=sshd["port"], key_file=sshd["key_file"],
        known_hosts=KnownHosts(sshd["known_hosts"]))
    pid_file = tmp_path / "cmd.pid"
    cut_when_running(pid_file, lambda: os.kill(int(pid_file.read_text()), signal.SIGKILL))
    with pytest.raises(RemoteCommandError) as err:
        account.ssh(f"echo $$ > {pid_file}; exec sleep 60", timeout=60)
    assert not isinstance(err.value, ConnectionLostError)
    assert err.value.signal == "SIGKILL" and "was killed by SIGKILL" in str(err.value)
    os.unlink(pid_file)
    cut_when_running(pid_file, lambda: os.kill(int(pid_file.read_text()), signal.SIGTERM))
    assert account.ssh(f"echo $$ > {pid_file}; exec sleep 60", allow_fail=True, timeout=60) == -signal.SIGTERM
    account.close()


def test_cluster_file_keepalive_settings(tmp_path, sshd):
    path = tmp_path / "c.json"
    node = {"hostname": "127.0.0.1", "port": sshd["port"], "user": "root", "key_file": sshd["key_file"]}
    path.write_text(json.dumps({"keepalive_interval": 2, "keepalive_count_max": 4, "nodes": [
        {**node, "name": "a"}, {**node, "name": "b", "keepalive_interval": 0.5}]}))
    a, b = load_cluster(f"json:{path}").nodes
    assert (a.account.keepalive_interval, a.account.keepalive_count_max) == (2, 4)
    assert (b.account.keepalive_interval, b.account.keepalive_count_max) == (0.5, 4)
    path.write_text(json.dumps({"nodes": [node]}))
    (c,) = load_cluster(f"json:{path}").nodes
    assert (c.account.keepalive_interval, c.account.keepalive_count_max) == (5, 3)  # the defaults


@pytest.mark.parametrize("content, message", [
    ({"keepalive_interval": "5s"}, '"keepalive_interval" \'5s\' is not a number of seconds'),
    ({"keepalive_interval": -1}, '"keepalive_interval" -1 is not a number of seconds'),
    ({"keepalive_count_max": 0}, '"keepalive_count_max" 0 is not a whole number from 1'),
    ({"keepalive_count_max": 2.5}, '"keepalive_count_max" 2.5 is not a whole number from 1'),
    ({"keepalives": 3}, "unknown top-level key 'keepalives'"),
])
def test_bad_keepalive_settings(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"nodes": [{"hostname": "h"}], **content}))
    with pytest.raises(ConfigError) as err:
        load_cluster(f"json:{path}")
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
    path.write_text(json.dumps({"nodes": [{"hostname": "h", **content}]}))
    if "top-level" not in message:
        with pytest.raises(ConfigError, match="node 1: " + message.replace('"', '.')):
            load_cluster(f"json:{path}")


# -- the runner ---------------------------------------------------------------------------------

class Session:
    """``invoke test lost_node.py`` on a json cluster of "doomed" (the test's sshd) and "steady"
    (the suite's), its console lines timestamped as they arrive."""

    def __init__(self, tmp_path, doomed: Sshd, steady: dict):
        self.sync = tmp_path / "sync"
        self.sync.mkdir()
        self.results = tmp_path / "results"
        nodes = [{"name": name, "hostname": "127.0.0.1", "port": info["port"], "user": "root",
                  "key_file": info["key_file"], "scratch": str(tmp_path / name)}
                 for name, info in (("doomed", doomed.info()), ("steady", steady))]
        cluster_file = tmp_path / "cluster.json"
        cluster_file.write_text(json.dumps({"nodes": nodes}))
        # no build to push to the nodes: a session on a json cluster first syncs the checkout's
        # build (hundreds of MB once Kafka and the bridge are built), which this test does not need
        env = {**os.environ, "DUCTTAPE_BUILD_DIR": str(tmp_path / "no-build")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "invoke", "test", SCENARIO, "--cluster", f"json:{cluster_file}",
             "--results-dir", str(self.results), "--param", f"sync={self.sync}"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put((time.monotonic(), None))

    def wait_for_line(self, text: str, timeout: float) -> tuple[float, str]:
        """The first console line (from here on) containing ``text``, and when it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {timeout:g}s:\n" + "\n".join(self.seen)) from None
            assert line is not None, f"the session ended without {text!r}:\n" + "\n".join(self.seen)
            self.seen.append(line)
            if text in line:
                return at, line

    def command_pid(self) -> int:
        """Wait for the command on doomed to run; its pid."""
        running = self.sync / "running"
        poll(lambda: running.exists() and running.stat().st_size > 0, 120,
             lambda: "the command on doomed never ran; the console so far:\n" + "\n".join(self.drain()))
        return int(running.read_text())

    def drain(self) -> list[str]:
        """Every console line so far (those not yet waited for are taken now)."""
        while not self.lines.empty():
            line = self.lines.get()[1]
            if line is not None:
                self.seen.append(line)
        return self.seen

    def finish(self) -> dict:
        """Let the last test use doomed again; wait for the session to end; its report."""
        (self.sync / "back").touch()
        self.wait_for_line(" passed, ", timeout=180)
        assert self.proc.wait(60) == 1, "\n".join(self.seen)
        with open(self.results / "latest" / "report.json") as f:
            return json.load(f)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def run_cut(tmp_path, node_sshd, steady, cut, deadline: float, bring_back=lambda: None) -> dict:
    """Run the scenario, ``cut()`` doomed's connection while its command runs, and check that the
    test fails within ``deadline`` seconds of the cut, the runner using under 10% of a core
    meanwhile; that the next test (on steady) passes; and that after ``bring_back()`` the last
    one uses doomed again. Returns the failed test's report entry."""
    session = Session(tmp_path, node_sshd, steady)
    pid = None
    try:
        pid = session.command_pid()
        cpu_at_cut, cut_at = cpu_seconds(session.proc.pid), time.monotonic()
        cut()
        failed_at, line = session.wait_for_line("test_cut_off ... ", timeout=deadline + 60)
        cpu = cpu_seconds(session.proc.pid) - cpu_at_cut
        _, error = session.wait_for_line("    ", timeout=30)
        waited = failed_at - cut_at
        print(f"\nFAIL {waited:.2f}s after the cut; runner CPU meanwhile {cpu:.2f}s "
              f"({100 * cpu / waited:.1f}% of a core); load {os.getloadavg()[0]:.1f}\n{line}\n{error}")
        assert "FAIL" in line
        assert error.startswith("    ConnectionLostError: on doomed: `echo $$ > ") and "connection lost after" in error
        assert waited < deadline, f"the test failed {waited:.1f}s after the cut"
        # One clock tick of slack: the failure itself (traceback, logs) costs a few ms.
        assert cpu < 0.1 * waited + 0.02, f"the runner used {cpu:.2f}s of CPU in {waited:.1f}s"
        bring_back()
        report = session.finish()
    finally:
        session.kill()
        if pid:
            kill_quietly(pid)
    tests = {t["test_id"].rsplit(".", 1)[1]: t for t in report["tests"]}
    assert [tests[t]["status"] for t in ("test_cut_off", "test_healthy_node", "test_node_back")] == \
        ["FAIL", "PASS", "PASS"], session.seen
    assert tests["test_healthy_node"]["data"] == {"echo": "ok"}
    assert tests["test_node_back"]["data"] == {"echo": "back"}
    assert tests["test_cut_off"]["error"] == error.strip()
    return tests["test_cut_off"]


@pytest.mark.slow
def test_runner_fails_a_test_whose_node_dies_and_goes_on(tmp_path, node_sshd, sshd):
    def crash():  # the sshd processes serving the connection die, then the whole node is down
        node_sshd.signal_serving(signal.SIGKILL)
        node_sshd.stop()

    failed = run_cut(tmp_path, node_sshd, sshd, crash, deadline=5, bring_back=node_sshd.start)
    assert failed["error"].endswith(CLOSED_BY_NODE)


@pytest.mark.slow
def test_runner_fails_a_test_whose_node_goes_silent_and_goes_on(tmp_path, node_sshd, sshd):
    # Default keepalives (5 s x 3): unanswered for 15 s after a probe sent within 5 s of the cut.
    failed = run_cut(tmp_path, node_sshd, sshd, lambda: node_sshd.signal_serving(signal.SIGSTOP),
                     deadline=30)
    assert failed["error"].endswith("(no answer to keepalives for 15s (3 x 5s))")


@pytest.mark.ssh
def test_a_failed_login_leaves_no_transport_open(sshd, tmp_path):
    """A key the node refuses: ClusterError, and paramiko's transport (thread, socket) is closed."""
    import subprocess
    import threading

    import paramiko

    from ducttape.errors import ClusterError
    from ducttape.remote.host_keys import KnownHosts

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True, timeout=30)

    def transports():
        return [t for t in threading.enumerate() if isinstance(t, paramiko.Transport) and t.is_alive()]

    before = set(transports())  # other tests' connections, which may end meanwhile
    account = SshAccount("refused", "127.0.0.1", user=sshd["user"], port=sshd["port"], key_file=str(stranger),
                         known_hosts=KnownHosts(sshd["known_hosts"]))  # the host is known: the login fails
    for _ in range(3):
        with pytest.raises(ClusterError, match="cannot connect to node refused"):
            account.ssh("true", timeout=30)
    deadline = time.monotonic() + 10
    while set(transports()) - before and time.monotonic() < deadline:
        time.sleep(0.05)  # a closed transport's thread ends on its own, within its poll interval
    assert set(transports()) - before == set()
