"""Files collected from a node stay inside the folder they are copied into, whatever names the
node's SFTP server sends.

The node here is a real SSH server made with paramiko's server side (a Transport in server mode
with an SFTPServer whose listing is hostile); ducttape's client side is its own, unchanged
SshAccount over real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import threading

import paramiko
import pytest

from ducttape.cluster import Node
from ducttape.remote.errors import UnsafePathError
from ducttape.remote.host_keys import KnownHosts, host_name
from ducttape.remote.ssh import SshAccount
from ducttape.runner.context import collect_logs

SERVED = "/logs"


class _Server(paramiko.ServerInterface):
    """Any public key logs in; `test -d /logs` and `test -e /logs` answer 0, any other command
    1; sftp is served."""

    def check_auth_publickey(self, username, key):
        return paramiko.AUTH_SUCCESSFUL

    def get_allowed_auths(self, username):
        return "publickey"

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        status = 0 if command.decode().endswith((f"test -d {SERVED}", f"test -e {SERVED}")) else 1

        def answer():
            # the client closes its input once exec_command has its reply: answer after that
            while channel.recv(1024):
                pass
            channel.send_exit_status(status)
            channel.shutdown_write()
            channel.close()
        threading.Thread(target=answer, daemon=True).start()
        return True


class _Handle(paramiko.SFTPHandle):
    def __init__(self, data: bytes):
        super().__init__()
        self.data = data

    def read(self, offset, length):
        return self.data[offset:offset + length]

    def stat(self):
        attr = paramiko.SFTPAttributes()
        attr.st_size, attr.st_mode = len(self.data), 0o100644
        return attr


def _stub(names: list[str]):
    """An SFTP server whose folder SERVED lists ``names`` (files of a few bytes each)."""

    class Stub(paramiko.SFTPServerInterface):
        def stat(self, path):
            attr = paramiko.SFTPAttributes()
            attr.st_mode = 0o040755 if path.rstrip("/") == SERVED else 0o100644
            attr.st_size = 0 if attr.st_mode & 0o040000 else 5
            return attr

        lstat = stat

        def list_folder(self, path):
            found = []
            for name in names:
                attr = paramiko.SFTPAttributes()
                attr.filename, attr.st_mode, attr.st_size = name, 0o100644, 5
                found.append(attr)
            return found

        def open(self, path, flags, attr):
            return _Handle(b"owned")

    return Stub


@pytest.fixture
def hostile_node(tmp_path):
    """Start a server on 127.0.0.1 whose listing is given by the test; yield a starter."""
    host_key = paramiko.Ed25519Key.from_private_key_file(_keygen(tmp_path / "host_key"))
    client_key = _keygen(tmp_path / "client_key")
    listener = socket.create_server(("127.0.0.1", 0))
    # the server's key is recorded, as a cluster's known_hosts would hold it: hosts are checked
    known = tmp_path / "known_hosts"
    known.write_text(f"{host_name('127.0.0.1', listener.getsockname()[1])} "
                     f"{host_key.get_name()} {host_key.get_base64()}\n")
    transports: list[paramiko.Transport] = []
    accounts: list[SshAccount] = []

    def start(names: list[str]) -> SshAccount:
        def serve():
            try:
                conn, _ = listener.accept()
            except OSError:  # the test ended without connecting: the listener is closed
                return
            transport = paramiko.Transport(conn)
            transports.append(transport)
            transport.add_server_key(host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _stub(names))
            transport.start_server(server=_Server())
        threading.Thread(target=serve, daemon=True).start()
        account = SshAccount("evil", "127.0.0.1", user="root", port=listener.getsockname()[1],
                             key_file=client_key, keepalive_interval=0,
                             known_hosts=KnownHosts(str(known), "strict"))
        accounts.append(account)
        return account

    yield start
    for account in accounts:
        account.close()
    for transport in transports:
        transport.close()
    listener.close()


def _keygen(path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)
    return str(path)


def tree(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files}


@pytest.mark.parametrize("bad", ["../../escaped.log", "../escaped.log", "/tmp/absolute.log", "a/b.log", ""])
def test_a_listing_with_a_path_writes_nothing_outside_the_results(hostile_node, tmp_path, bad):
    results = tmp_path / "results"
    target = results / "Svc-1" / "evil"
    before = tree(tmp_path)
    account = hostile_node(["ok.log", bad])
    with pytest.raises(UnsafePathError, match=f"evil: \\(sftp\\) copy of {SERVED}: the node listed"):
        account.copy_from(SERVED, str(target / "logs"))
    # nothing of that folder, and nothing anywhere else: not beside results/, not in /tmp
    assert tree(tmp_path) == before
    assert not os.path.exists("/tmp/absolute.log") and not (tmp_path / "escaped.log").exists()


@pytest.mark.parametrize("dots", [".", ".."])
def test_dot_entries_are_skipped(hostile_node, tmp_path, dots):
    """'.' and '..' never reach ducttape: paramiko's listing leaves them out."""
    target = tmp_path / "results" / "Svc-1" / "evil" / "logs"
    hostile_node(["ok.log", dots]).copy_from(SERVED, str(target))
    assert tree(tmp_path / "results") == {"Svc-1/evil/logs/ok.log"}
    assert not (tmp_path / "results" / "Svc-1" / "evil" / "ok.log").exists()


def test_collecting_logs_from_such_a_node_warns_and_writes_nothing(hostile_node, tmp_path, caplog):
    target = tmp_path / "results" / "Svc-1" / "evil"
    account = hostile_node(["../../../escaped.log"])
    node = Node("evil", account, "127.0.0.1", "/scratch", "/build")
    collect_logs(node, {"logs": SERVED}, str(target), "Svc-1")  # a bad node must not fail a test
    assert "not a plain file name" in caplog.text
    assert tree(tmp_path / "results") == set() and not (tmp_path / "escaped.log").exists()


def test_plain_names_are_copied(hostile_node, tmp_path):
    """The same server with a harmless listing: the copy works (the refusals above are real)."""
    target = tmp_path / "results" / "Svc-1" / "good" / "logs"
    hostile_node(["a.log", "b.log"]).copy_from(SERVED, str(target))
    assert tree(target) == {"a.log", "b.log"} and (target / "a.log").read_bytes() == b"owned"


def test_a_log_path_ending_in_dotdot_is_not_collected(hostile_node, tmp_path, caplog):
    target = tmp_path / "results" / "Svc-1" / "n"
    node = Node("n", hostile_node(["a.log"]), "127.0.0.1", "/scratch", "/build")
    collect_logs(node, {"up": "/logs/.."}, str(target), "Svc-1")
    assert "outside" in caplog.text and not (tmp_path / "results").exists()
