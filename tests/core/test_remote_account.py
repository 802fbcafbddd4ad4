"""The RemoteAccount contract, checked on both kinds of account: local and real SSH."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

from ducttape.errors import ClusterError, TimeoutError  # noqa: A004 - ducttape's own
from ducttape.remote import LocalAccount, RemoteCommandError, SshAccount
from ducttape.remote.host_keys import KnownHosts


@pytest.fixture(params=["local", pytest.param("ssh", marks=pytest.mark.ssh)])
def account(request, tmp_path):
    if request.param == "local":
        acct = LocalAccount("local1", address="127.0.1.9")
    else:
        sshd = request.getfixturevalue("sshd")
        acct = SshAccount("ssh1", "127.0.0.1", user=sshd["user"], port=sshd["port"],
                          key_file=sshd["key_file"], address="127.0.1.10",
                          known_hosts=KnownHosts(sshd["known_hosts"]))
    acct.tag = f"account-test-{uuid.uuid4().hex[:8]}"
    yield acct
    acct.kill_tagged(acct.tag)
    acct.close()


def test_exit_status_and_output(account):
    assert account.ssh("true") == 0
    assert account.ssh("exit 4", allow_fail=True) == 4
    assert account.ssh_output("echo hello; echo world").splitlines() == ["hello", "world"]


def test_failure_names_host_command_status_and_stderr(account):
    with pytest.raises(RemoteCommandError) as err:
        account.ssh("echo first >&2; echo 'disk on fire' >&2; exit 3")
    e = err.value
    assert (e.host, e.exit_status) == (account.name, 3)
    assert "exit 3" in e.command
    for part in (account.name, "exited 3", "disk on fire", "exit 3"):
        assert part in str(e)


def test_command_timeout_raises_instead_of_hanging(account):
    start = time.monotonic()
    with pytest.raises(RemoteCommandError, match="timed out after 0.5s"):
        account.ssh("sleep 30", timeout=0.5)
    assert time.monotonic() - start < 10


def test_capture_streams_lines_while_the_command_runs(account, tmp_path):
    gate = tmp_path / "gate"
    lines = account.ssh_capture(f"echo one; echo two; while [ ! -e {gate} ]; do sleep 0.05; done; echo three",
                                timeout=30)
    assert next(lines) == "one"  # arrives while the command still waits for the gate
    assert next(lines) == "two"
    gate.touch()
    assert list(lines) == ["three"]


def test_capture_checks_exit_status_at_the_end(account):
    with pytest.raises(RemoteCommandError, match="exited 5"):
        list(account.ssh_capture("echo partial; exit 5"))
    assert list(account.ssh_capture("echo partial; exit 5", allow_fail=True)) == ["partial"]


def test_files_and_directories(account, tmp_path):
    remote = tmp_path / "remote"
    account.create_file(f"{remote}/a/b.txt", "héllo\n")
    assert account.read_file(f"{remote}/a/b.txt") == "héllo\n"
    assert account.exists(f"{remote}/a/b.txt") and not account.exists(f"{remote}/nope")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "x.txt").write_text("x")
    (src / "sub" / "y.bin").write_bytes(os.urandom(300_000))
    account.copy_to(str(src), f"{remote}/copy")
    account.copy_from(f"{remote}/copy", str(tmp_path / "back"))
    assert (tmp_path / "back" / "x.txt").read_text() == "x"
    assert (tmp_path / "back" / "sub" / "y.bin").read_bytes() == (src / "sub" / "y.bin").read_bytes()
    account.mkdirs(f"{remote}/deep/er")
    account.remove(f"{remote}")
    assert not account.exists(str(remote))


def test_spawn_tracks_the_process_by_pid_file(account, tmp_path):
    pid_file, log_file = f"{tmp_path}/svc/p.pid", f"{tmp_path}/svc/out.log"
    monitor = account.monitor_log(log_file)
    pid = account.spawn("sh -c 'echo started $GREETING; sleep 60 & wait'", pid_file, log_file,
                        env={"GREETING": "hi there"})
    assert account.pids(pid_file) == [pid] and account.alive(pid)
    assert os.getpgid(pid) == pid  # its own process group: the whole tree is signalled together
    monitor.wait_until("started hi there", timeout=10)
    assert account.kill_process(pid_file, timeout=10) is True
    assert account.pids(pid_file) == [] and not account.alive(pid)
    states = subprocess.run(["ps", "-o", "stat=", "--sid", str(pid)], capture_output=True, text=True).stdout
    assert all(s.startswith("Z") for s in states.split()), f"left running: {states!r}"


def test_kill_process_escalates_to_sigkill(account, tmp_path):
    pid_file, log_file = f"{tmp_path}/p.pid", f"{tmp_path}/l"
    monitor = account.monitor_log(log_file)
    pid = account.spawn("sh -c 'trap \"\" TERM; echo ready; while :; do sleep 0.1; done'", pid_file, log_file)
    monitor.wait_until("ready", timeout=10)  # TERM before the trap is set would end it
    assert account.kill_process(pid_file, timeout=0.5) is False
    assert not account.alive(pid)


def test_signal_reaches_the_process(account, tmp_path):
    pid_file, log_file = f"{tmp_path}/p.pid", f"{tmp_path}/l"
    monitor = account.monitor_log(log_file)
    pid = account.spawn("sh -c 'trap \"echo got usr1\" USR1; echo ready; while :; do sleep 0.1; done'",
                        pid_file, log_file)
    monitor.wait_until("ready", timeout=10)
    assert account.signal(pid, "USR1")
    monitor.wait_until("got usr1", timeout=10)
    account.kill_process(pid_file)
    assert not account.alive(pid)
    assert account.signal(999_999_999 % 4_000_000 + 4_000_000, "USR1") is False  # no such pid


def test_wait_for_log_sees_only_lines_written_after_the_call(account, tmp_path):
    log_file = f"{tmp_path}/app.log"
    account.create_file(log_file, "old: ready\n")
    with pytest.raises(TimeoutError, match="no line matching /ready/"):
        account.wait_for_log(log_file, "ready", timeout=0.5)
    monitor = account.monitor_log(log_file)
    account.ssh(f"echo 'new: ready 42' >> {log_file}")
    assert account.wait_for_log(log_file, r"ready \d+", timeout=5, monitor=monitor) == "new: ready 42"


def test_wait_for_http(account, tmp_path):
    port = 18080 + (os.getpid() % 1000)
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", account.address, str(port)],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert account.wait_for_http(port, "/", timeout=20) == 200
        assert account.wait_for_http(port, "/missing", timeout=5) == 404
        with pytest.raises(TimeoutError, match="did not answer 200"):
            account.wait_for_http(port, "/missing", timeout=0.5, status=200)
    finally:
        server.terminate()
        server.wait(5)
    with pytest.raises(TimeoutError, match="no answer"):
        account.wait_for_http(port, "/", timeout=0.3)


def test_parallel_commands_share_one_connection(account):
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(account.ssh_output(f"echo {i}").strip()))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=int) == [str(i) for i in range(8)]


@pytest.mark.ssh
def test_unreachable_host_is_one_clear_error():
    acct = SshAccount("ghost", "127.0.0.1", user="root", port=1, connect_timeout=3)
    with pytest.raises(ClusterError, match=r"cannot connect to node ghost at root@127.0.0.1:1"):
        acct.ssh("true")


def test_a_guard_ends_a_wait_early(account, tmp_path):
    calls = []

    def guard():
        calls.append(time.monotonic())
        if len(calls) in (3, 4):
            raise RuntimeError("the writer is gone")

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="the writer is gone"):
        account.wait_for_log(str(tmp_path / "quiet.log"), "never", timeout=30, guard=guard)
    with pytest.raises(RuntimeError, match="the writer is gone"):
        account.wait_for_http(1, timeout=30, guard=guard)
    assert time.monotonic() - start < 10 and len(calls) == 4
