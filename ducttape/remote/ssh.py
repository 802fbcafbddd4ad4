"""Accounts for nodes reached over SSH: one persistent ``fabric.Connection`` per node."""

from __future__ import annotations

import io
import os
import posixpath
import select
import shlex
import socket
import stat
import threading
import time
from contextlib import contextmanager

import paramiko
from fabric import Config, Connection
from fabric.runners import Remote
from invoke.runners import Result

from ducttape.errors import ClusterError
from ducttape.remote.account import DEFAULT_TIMEOUT, RemoteAccount, log
from ducttape.remote.errors import RemoteCommandError

CONNECT_TIMEOUT = 15.0
CHUNK = 1 << 20
_INHERITED: list[Connection] = []
"""Connections a forked process inherited from its parent: never used, never collected."""


class _Remote(Remote):
    """Fabric's runner, woken by the channel's exit status instead of invoke's 10 ms polling."""

    def wait(self) -> None:
        while not (self.process_is_finished or self.has_dead_threads):
            self.channel.status_event.wait(0.05)


class _Transport(paramiko.Transport):
    """AES-GCM first: an AEAD cipher needs no separate MAC pass, which roughly doubles the
    throughput of bulk copies (measured in benchmarks/RESULTS.md)."""

    _preferred_ciphers = tuple(c for c in paramiko.Transport._preferred_ciphers if "gcm" in c) + tuple(
        c for c in paramiko.Transport._preferred_ciphers if "gcm" not in c)


class SshAccount(RemoteAccount):
    """A RemoteAccount over one Fabric connection, opened once and reused by every call."""

    def __init__(self, name: str, hostname: str, user: str | None = None, port: int = 22,
                 key_file: str | None = None, address: str | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT):
        self.hostname, self.port, self.key_file = hostname, port, key_file
        self.connect_timeout = connect_timeout
        conn = self._connection(user)
        super().__init__(name, conn, address or hostname)
        self.user = conn.user
        self._conn = conn
        self._open_lock = threading.Lock()
        self._sftp_lock = threading.Lock()

    def _connection(self, user: str | None) -> Connection:
        connect_kwargs: dict = {"banner_timeout": self.connect_timeout,
                                "auth_timeout": self.connect_timeout, "transport_factory": _Transport}
        if self.key_file:
            connect_kwargs.update(key_filename=self.key_file, look_for_keys=False, allow_agent=False)
        return Connection(self.hostname, user=user, port=self.port, connect_timeout=self.connect_timeout,
                          connect_kwargs=connect_kwargs,
                          config=Config(overrides={"runners": {"remote": _Remote}}))

    def after_fork(self) -> None:
        """A new, not yet opened connection: the parent's transport (and its thread, which a
        fork does not copy) stays the parent's; closing it here would end it for the parent.
        The old one is kept referenced: were it collected, its channels' finalizers would write
        to the socket the parent still uses."""
        _INHERITED.append(self._conn)
        self._conn = self._ctx = self._connection(self.user)
        self._open_lock = threading.Lock()
        self._sftp_lock = threading.Lock()

    def connect(self) -> None:
        """Open the connection now (idempotent); raise ClusterError naming the node if it fails."""
        with self._open_lock:
            if self._conn.is_connected:
                return
            try:
                # Commands are small request/answer exchanges (and so are the key exchange and
                # authentication): without TCP_NODELAY each waits out Nagle's algorithm against
                # the peer's delayed ACK, about 40 ms a time.
                sock = socket.create_connection((self.hostname, self.port), timeout=self.connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._conn.connect_kwargs["sock"] = sock
                self._conn.open()
            except (OSError, socket.timeout, paramiko.SSHException) as exc:
                reason = str(exc) or type(exc).__name__
                raise ClusterError(
                    f"cannot connect to node {self.name} at {self.user}@{self.hostname}:{self.port}: "
                    f"{reason}; check that the host is up and the cluster file is right") from None

    def run(self, cmd, allow_fail=False, timeout=None):
        """Run ``cmd`` on its own exec channel, read by this thread as output arrives.

        Fabric's runner starts three threads per command and polls, which was most of the cost
        of a short command (benchmarks/RESULTS.md); streaming output keeps it (ssh_capture).
        """
        self.connect()
        timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        log.debug("%s$ %s", self.name, cmd)
        out, err = bytearray(), bytearray()
        chan = self._conn.transport.open_session(timeout=timeout)
        try:
            chan.exec_command(self._tagged(cmd))
            chan.shutdown_write()
            while True:
                while chan.recv_ready():
                    out += chan.recv(CHUNK)
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(CHUNK)
                if chan.eof_received and not (chan.recv_ready() or chan.recv_stderr_ready()):
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RemoteCommandError(self.name, cmd, None, _text(err), _text(out), timeout=timeout)
                select.select([chan], [], [], min(remaining, 1.0))  # readable: output or EOF
            if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
                raise RemoteCommandError(self.name, cmd, None, _text(err), _text(out), timeout=timeout)
        finally:
            chan.close()
        result = Result(stdout=_text(out), stderr=_text(err), exited=chan.exit_status, command=cmd,
                        hide=("stdout", "stderr"))
        self._log_output(result)
        if result.exited != 0 and not allow_fail:
            raise RemoteCommandError(self.name, cmd, result.exited, result.stderr, result.stdout)
        return result

    def ssh_capture(self, cmd, allow_fail=False, timeout=None):
        self.connect()
        return super().ssh_capture(cmd, allow_fail=allow_fail, timeout=timeout)

    def create_file(self, path: str, text: str) -> None:
        self.mkdirs(posixpath.dirname(path) or ".")
        with self._sftp() as sftp:
            sftp.putfo(io.BytesIO(text.encode()), path)

    def copy_to(self, local_path: str, remote_path: str) -> None:
        self.mkdirs(posixpath.dirname(remote_path) or ".")
        with self._sftp() as sftp:
            if not os.path.isdir(local_path):
                sftp.put(local_path, remote_path)
                return
            for root, _dirs, files in os.walk(local_path):
                rel = os.path.relpath(root, local_path)
                target = remote_path if rel == "." else posixpath.join(remote_path, rel)
                _sftp_mkdir(sftp, target)
                for name in files:
                    sftp.put(os.path.join(root, name), posixpath.join(target, name))

    def copy_from(self, remote_path: str, local_path: str) -> None:
        """Files stream through ``cat`` on one exec channel (no request/answer per 32 KiB block
        as SFTP has: about three times faster); directories go through SFTP."""
        if self.run(f"test -d {shlex.quote(remote_path)}", allow_fail=True).exited == 0:
            with self._sftp() as sftp:
                _get(sftp, remote_path, local_path)
            return
        os.makedirs(os.path.dirname(os.path.abspath(local_path)), exist_ok=True)
        cmd = f"cat -- {shlex.quote(remote_path)}"
        chan = self._conn.transport.open_session(timeout=CONNECT_TIMEOUT)
        try:
            chan.settimeout(DEFAULT_TIMEOUT)  # per read: a stalled copy fails instead of hanging
            chan.exec_command(cmd)
            with open(local_path, "wb") as f:
                while data := chan.recv(CHUNK):
                    f.write(data)
            err = chan.recv_stderr(CHUNK)
            status = chan.recv_exit_status()
        finally:
            chan.close()
        if status != 0:
            raise RemoteCommandError(self.name, cmd, status, _text(err))

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _sftp(self):
        """The connection's SFTP session, held by one thread at a time (paramiko's isn't shared)."""
        self.connect()
        with self._sftp_lock:
            yield self._conn.sftp()


def _sftp_mkdir(sftp: paramiko.SFTPClient, path: str) -> None:
    try:
        sftp.mkdir(path)
    except OSError:
        if not stat.S_ISDIR(sftp.stat(path).st_mode):
            raise


def _get(sftp: paramiko.SFTPClient, remote: str, local: str) -> None:
    mode = sftp.stat(remote).st_mode
    if not stat.S_ISDIR(mode):
        os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
        sftp.get(remote, local)
        return
    os.makedirs(local, exist_ok=True)
    for entry in sftp.listdir_attr(remote):
        _get(sftp, posixpath.join(remote, entry.filename), os.path.join(local, entry.filename))


def _text(data: bytes) -> str:
    return data.decode(errors="replace")
