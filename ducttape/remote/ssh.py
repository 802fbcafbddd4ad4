"""Accounts for nodes reached over SSH: one persistent ``fabric.Connection`` per node."""

from __future__ import annotations

import io
import os
import posixpath
import socket
import stat
import threading
from contextlib import contextmanager

import paramiko
from fabric import Connection

from ducttape.errors import ClusterError
from ducttape.remote.account import RemoteAccount

CONNECT_TIMEOUT = 15.0


class SshAccount(RemoteAccount):
    """A RemoteAccount over one Fabric connection, opened once and reused by every call."""

    def __init__(self, name: str, hostname: str, user: str | None = None, port: int = 22,
                 key_file: str | None = None, address: str | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT):
        connect_kwargs: dict = {"banner_timeout": connect_timeout, "auth_timeout": connect_timeout}
        if key_file:
            connect_kwargs.update(key_filename=key_file, look_for_keys=False, allow_agent=False)
        conn = Connection(hostname, user=user, port=port, connect_timeout=connect_timeout,
                          connect_kwargs=connect_kwargs)
        super().__init__(name, conn, address or hostname)
        self.hostname, self.port, self.user = hostname, port, conn.user
        self._conn = conn
        self._open_lock = threading.Lock()
        self._sftp_lock = threading.Lock()

    def connect(self) -> None:
        """Open the connection now (idempotent); raise ClusterError naming the node if it fails."""
        with self._open_lock:
            if self._conn.is_connected:
                return
            try:
                self._conn.open()
            except (OSError, socket.timeout, paramiko.SSHException) as exc:
                reason = str(exc) or type(exc).__name__
                raise ClusterError(
                    f"cannot connect to node {self.name} at {self.user}@{self.hostname}:{self.port}: "
                    f"{reason}; check that the host is up and the cluster file is right") from None
            # Commands are small request/answer exchanges: without TCP_NODELAY each one waits
            # out Nagle's algorithm against the peer's delayed ACK.
            self._conn.transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run(self, cmd, allow_fail=False, timeout=None):
        self.connect()
        return super().run(cmd, allow_fail=allow_fail, timeout=timeout)

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
        self.connect()
        with self._sftp() as sftp:
            _get(sftp, remote_path, local_path)

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
