"""Accounts for nodes reached over SSH: one persistent ``fabric.Connection`` per node."""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import select
import shlex
import signal
import socket
import stat
import threading
import time
from typing import cast

import paramiko
from fabric import Connection
from invoke.runners import Result

from ducttape.errors import ClusterError
from ducttape.remote import in_flight
from ducttape.remote.account import DEFAULT_TIMEOUT, RemoteAccount, failure, log
from ducttape.remote.errors import ConnectionLostError, RemoteCommandError, UnsafePathError
from ducttape.remote.host_keys import KnownHosts, host_name
from ducttape.validate import inside, plain_file_name

CONNECT_TIMEOUT = 15.0
COPY_TIMEOUT = 3600.0
"""Seconds a file copy from a node may take (a stalled one is found sooner by the keepalives)."""
CHUNK = 1 << 20
_INHERITED: list[Connection] = []
"""Connections a forked process inherited from its parent: never used, never collected."""


KEEPALIVE_INTERVAL = 5.0
"""Seconds between keepalive probes on an SSH connection (OpenSSH's ``ServerAliveInterval``)."""
KEEPALIVE_COUNT_MAX = 3
"""A connection is lost when a probe stays unanswered for this many intervals
(``ServerAliveCountMax``): with the defaults a silent cut is found within 15-20 s."""


def _channel_request(chan: paramiko.Channel, m: paramiko.Message) -> None:
    """paramiko ignores "exit-signal" (RFC 4254, 6.10): keep its name on the channel."""
    start = m.packet.tell()
    if m.get_text() == "exit-signal":
        m.get_boolean()
        chan.exit_signal = "SIG" + m.get_text()  # type: ignore[attr-defined]  # ours, read with getattr
    m.packet.seek(start)
    paramiko.Channel._handle_request(chan, m)  # type: ignore[attr-defined]  # private, not in the stubs


_PARAMIKO_CIPHERS: tuple[str, ...] = paramiko.Transport._preferred_ciphers  # type: ignore[attr-defined]  # private


class _Transport(paramiko.Transport):
    """paramiko's transport with AES-GCM first, keepalives with a deadline, and the signal that
    killed a command.

    AES-GCM: an AEAD cipher needs no separate MAC pass, which roughly doubles the throughput of
    bulk copies (measured in benchmarks/RESULTS.md).
    """

    _preferred_ciphers = tuple(c for c in _PARAMIKO_CIPHERS if "gcm" in c) + tuple(
        c for c in _PARAMIKO_CIPHERS if "gcm" not in c
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lost_lock = threading.Lock()
        self._lost_reason: str | None = None
        self._probe_sent: float | None = None  # monotonic time of the unanswered probe
        self._closing = threading.Event()  # wakes the keepalive threads when we close

    def keep_alive(self, interval: float, count_max: int, name: str) -> None:
        """Probe the server every ``interval`` seconds (one probe in flight at a time) and close
        the connection when a probe stays unanswered for ``interval * count_max`` seconds, which
        wakes every call waiting on it."""
        for target, args in ((self._probe, (interval,)), (self._watch, (interval, count_max))):
            threading.Thread(target=target, args=args, name=f"keepalive-{name}", daemon=True).start()

    def loss_reason(self) -> str:
        """Why the connection ended, in a few words (the same for every caller)."""
        with self._lost_lock:
            if self._lost_reason is None:
                self._lost_reason = _describe(self.saved_exception)
            return self._lost_reason

    def get_exception(self):
        # paramiko hands the exception that ended the connection to one caller only: keep it.
        exc = super().get_exception()
        with self._lost_lock:
            if exc is not None and self._lost_reason is None and not self.is_active():
                self._lost_reason = _describe(exc)
        return exc

    def _probe(self, interval: float) -> None:
        while self.is_active():
            self._probe_sent = time.monotonic()
            try:
                # OpenSSH answers any global request it does not know with a failure: an answer.
                self.global_request("keepalive@openssh.com", wait=True)
            except Exception:  # noqa: BLE001 - the probe could not be sent: the watchdog decides
                return
            if not self.is_active():
                return
            self._probe_sent = None
            self._closing.wait(interval)

    def _watch(self, interval: float, count_max: int) -> None:
        deadline = interval * count_max
        step = min(1.0, interval / 2)
        while self.is_active():
            self._closing.wait(step)
            sent = self._probe_sent
            if sent is not None and time.monotonic() - sent > deadline:
                with self._lost_lock:
                    self._lost_reason = f"no answer to keepalives for {deadline:g}s ({count_max} x {interval:g}s)"
                self.close()
                return

    def close(self) -> None:
        self._closing.set()
        super().close()

    _channel_handler_table = {
        **paramiko.Transport._channel_handler_table,  # type: ignore[attr-defined]  # private
        paramiko.common.MSG_CHANNEL_REQUEST: _channel_request,
    }


class SshAccount(RemoteAccount):
    """A RemoteAccount over one Fabric connection, opened once and reused by every call.

    Keepalives probe the connection every ``keepalive_interval`` seconds (0: never); a call whose
    connection breaks, or whose probe stays unanswered for ``keepalive_count_max`` intervals,
    raises ``ConnectionLostError`` at once. The next call connects again; when a connection
    attempt gets no answer within ``connect_timeout``, calls fail at once for as long again.
    The host's key is checked against ``known_hosts`` (default: ~/.ssh/known_hosts, strict).
    """

    def __init__(
        self,
        name: str,
        hostname: str,
        user: str | None = None,
        port: int = 22,
        key_file: str | None = None,
        address: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        keepalive_interval: float = KEEPALIVE_INTERVAL,
        keepalive_count_max: int = KEEPALIVE_COUNT_MAX,
        known_hosts: KnownHosts | None = None,
    ):
        self.hostname, self.port, self.key_file = hostname, port, key_file
        self.known_hosts = known_hosts or KnownHosts()
        self.connect_timeout = connect_timeout
        self.keepalive_interval = keepalive_interval
        self.keepalive_count_max = keepalive_count_max
        conn = self._connection(user)
        super().__init__(name, conn, address or hostname)
        self.user = conn.user
        self._conn = conn
        self._fresh_state()

    def _connection(self, user: str | None) -> Connection:
        connect_kwargs: dict = {
            "banner_timeout": self.connect_timeout,
            "auth_timeout": self.connect_timeout,
            "transport_factory": _Transport,
        }
        if self.key_file:
            connect_kwargs.update(key_filename=self.key_file, look_for_keys=False, allow_agent=False)
        return Connection(
            self.hostname,
            user=user,
            port=self.port,
            connect_timeout=self.connect_timeout,
            connect_kwargs=connect_kwargs,
        )

    def _fresh_state(self) -> None:
        self._open_lock = threading.Lock()
        self._sftp_lock = threading.Lock()
        self._silent: tuple[float, str] | None = None  # when and why a connect got no answer

    def after_fork(self) -> None:
        """A new, not yet opened connection: the parent's transport (and its keepalive threads,
        which a fork does not copy) stays the parent's; closing it here would end it for the
        parent. The old one is kept referenced: were it collected, its channels' finalizers
        would write to the socket the parent still uses."""
        _INHERITED.append(self._conn)
        self._conn = self._ctx = self._connection(self.user)
        self._fresh_state()

    def connect(self) -> _Transport:
        """Open the connection unless it is open (again after it was lost); return its transport.
        Raise ClusterError naming the node if it cannot be opened."""
        with self._open_lock:
            if self._conn.is_connected:
                return self._conn.transport
            if self._conn.transport is not None:  # lost: drop it and its SFTP session
                self._conn.close()
                self._conn.transport = None
            if self._silent is not None:
                failed_at, reason = self._silent
                ago = time.monotonic() - failed_at
                if ago < self.connect_timeout:
                    raise ClusterError(
                        self._cannot_connect(
                            f"{reason} ({ago:.1f}s ago; not tried again for {self.connect_timeout:g}s)"
                        )
                    )
            started = time.monotonic()
            try:
                # Commands are small request/answer exchanges (and so are the key exchange and
                # authentication): without TCP_NODELAY each waits out Nagle's algorithm against
                # the peer's delayed ACK, about 40 ms a time.
                sock = socket.create_connection((self.hostname, self.port), timeout=self.connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._conn.connect_kwargs["sock"] = sock
                self.known_hosts.apply(self._conn.client, self.name)
                self._conn.open()
            except paramiko.BadHostKeyException as exc:
                self._abandon()
                raise self.known_hosts.changed(
                    self.name, host_name(self.hostname, self.port), exc.expected_key, exc.key
                ) from None
            except ClusterError:  # a host key the policy refuses
                self._abandon()
                raise
            except (OSError, socket.timeout, paramiko.SSHException) as exc:
                self._abandon()
                reason = str(exc) or type(exc).__name__
                if time.monotonic() - started >= self.connect_timeout / 2:
                    # No answer at all: the calls of the next connect_timeout seconds (a test's
                    # teardown, say) fail at once instead of each waiting out the timeout.
                    self._silent = (time.monotonic(), reason)
                raise ClusterError(self._cannot_connect(reason)) from None
            self._silent = None
            transport = cast(_Transport, self._conn.transport)  # open() made it, with transport_factory
            if self.keepalive_interval > 0:
                transport.keep_alive(self.keepalive_interval, self.keepalive_count_max, self.name)
            return transport

    def _abandon(self) -> None:
        """Close what a failed connection attempt left open: paramiko keeps the transport (its
        thread and socket) of a refused host key or a failed login."""
        self._conn.client.close()
        sock = self._conn.connect_kwargs.pop("sock", None)
        if sock is not None:
            sock.close()
        self._conn.transport = None

    def _cannot_connect(self, reason: str) -> str:
        return (
            f"cannot connect to node {self.name} at {self.user}@{self.hostname}:{self.port}: "
            f"{reason}; check that the host is up and the cluster file is right"
        )

    def run(self, cmd, allow_fail=False, timeout=None):
        """Run ``cmd`` on its own exec channel, read by this thread as output arrives.

        Fabric's runner starts three threads per command and polls, which was most of the cost
        of a short command (benchmarks/RESULTS.md).
        """
        log.debug("%s$ %s", self.name, cmd)
        command = _Command(self, cmd, timeout, keep_stdout=True)
        for _ in command:
            pass
        result = Result(
            stdout=_text(command.out),
            stderr=_text(command.err),
            exited=command.exited,
            command=cmd,
            hide=("stdout", "stderr"),
        )
        self._log_output(result)
        if result.exited != 0 and not allow_fail:
            raise failure(self.name, cmd, result.exited, result.stderr, result.stdout, command.killed_by)
        return result

    def ssh_capture(self, cmd, allow_fail=False, timeout=None):
        self.connect()
        log.debug("%s$ %s (streaming)", self.name, cmd)
        return self._capture(_Command(self, cmd, timeout), allow_fail)

    def _capture(self, command: "_Command", allow_fail: bool):
        partial = b""
        for chunk in command:
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            yield from (_text(line) for line in lines)
        if partial:
            yield _text(partial)
        if command.exited != 0 and not allow_fail:
            raise failure(self.name, command.cmd, command.exited, _text(command.err), killed_by=command.killed_by)

    def create_file(self, path: str, text: str, private: bool = False) -> None:
        self.mkdirs(posixpath.dirname(path) or ".")
        with self._sftp(f"(sftp) write {path}") as sftp:
            if not private:
                sftp.putfo(io.BytesIO(text.encode()), path)
                return
            with sftp.open(path, "wb") as f:
                f.chmod(0o600)  # before the secret is in it
                f.write(text.encode())

    def copy_to(self, local_path: str, remote_path: str) -> None:
        self.mkdirs(posixpath.dirname(remote_path) or ".")
        with self._sftp(f"(sftp) copy {local_path} to {remote_path}") as sftp:
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
        as SFTP has: about three times faster); directories go through SFTP. A copy that fails
        leaves no partial file behind."""
        if self.run(f"test -d {shlex.quote(remote_path)}", allow_fail=True).exited == 0:
            with self._sftp(f"(sftp) copy {remote_path} to {local_path}") as sftp:
                _get(sftp, self.name, remote_path, local_path)
            return
        os.makedirs(os.path.dirname(os.path.abspath(local_path)), exist_ok=True)
        command = _Command(self, f"cat -- {shlex.quote(remote_path)}", COPY_TIMEOUT)
        try:
            with open(local_path, "wb") as f:
                for chunk in command:
                    f.write(chunk)
            if command.exited != 0:
                raise failure(self.name, command.cmd, command.exited, _text(command.err), killed_by=command.killed_by)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(local_path)
            raise

    def close(self) -> None:
        self._conn.close()

    @contextlib.contextmanager
    def _sftp(self, what: str):
        """The connection's SFTP session, held by one thread at a time (paramiko's isn't shared).
        A connection lost during the transfer raises ConnectionLostError naming ``what``."""
        transport = self.connect()
        started = time.monotonic()
        with self._sftp_lock:
            try:
                yield self._conn.sftp()
            except (OSError, EOFError, paramiko.SSHException):
                if transport.is_active():
                    raise
                raise ConnectionLostError(
                    self.name, what, time.monotonic() - started, transport.loss_reason()
                ) from None


class _Command:
    """One command on its own exec channel of the account's connection. Iterating runs it,
    yielding stdout chunks as they arrive (stderr is kept in ``err``); then ``exited`` holds its
    exit status (minus the signal's number when a signal killed it, named in ``killed_by``).

    The reading thread blocks on the channel, never polls: output, EOF, a closed connection and
    the timeout each wake it. Raises RemoteCommandError on timeout and ConnectionLostError when
    the connection breaks.
    """

    def __init__(self, account: SshAccount, cmd: str, timeout: float | None, keep_stdout: bool = False):
        self.account = account
        self.cmd = cmd
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.out = bytearray() if keep_stdout else None
        self.err = bytearray()
        self.exited: int | None = None
        self.killed_by: str | None = None

    def __iter__(self):
        with in_flight.running(self.account.name, self.cmd):
            yield from self._run()

    def _run(self):
        started = time.monotonic()
        deadline = started + self.timeout
        for attempt in (1, 2):
            # A connection found broken before the command started is opened again (or
            # ClusterError says the node is gone) and the command runs there.
            transport = self.account.connect()
            try:
                chan = transport.open_session(timeout=max(0.0, deadline - time.monotonic()))
                break
            except (OSError, EOFError, paramiko.SSHException):
                if transport.is_active():
                    raise
                if attempt == 2:
                    raise self._lost(transport, started) from None
        try:
            try:
                chan.exec_command(self.account._tagged(self.cmd))
                chan.shutdown_write()
            except (OSError, EOFError, paramiko.SSHException):
                if transport.is_active():
                    raise
                raise self._lost(transport, started) from None
            while True:
                while chan.recv_ready():
                    data = chan.recv(CHUNK)
                    if self.out is not None:
                        self.out += data
                    yield data
                while chan.recv_stderr_ready():
                    self.err += chan.recv_stderr(CHUNK)
                if chan.eof_received and not (chan.recv_ready() or chan.recv_stderr_ready()):
                    break
                if chan.closed:  # closed without EOF: the connection broke
                    raise self._lost(transport, started)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timed_out()
                select.select([chan], [], [], min(remaining, 1.0))  # readable: output, EOF, close
            if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
                raise self._timed_out()
            self.killed_by = getattr(chan, "exit_signal", None)
            if chan.exit_status == -1 and self.killed_by is None:  # no exit status: connection lost
                raise self._lost(transport, started)
            if self.killed_by:  # minus the signal's number, as Python reports it (255 if unknown)
                self.exited = -getattr(signal.Signals, self.killed_by, -255)
            else:
                self.exited = chan.exit_status
        finally:
            chan.close()

    def _timed_out(self) -> RemoteCommandError:
        return RemoteCommandError(
            self.account.name, self.cmd, None, _text(self.err), _text(self.out or b""), timeout=self.timeout
        )

    def _lost(self, transport: _Transport, started: float) -> ConnectionLostError:
        return ConnectionLostError(
            self.account.name,
            self.cmd,
            time.monotonic() - started,
            transport.loss_reason(),
            _text(self.err),
            _text(self.out or b""),
        )


def _describe(exc: BaseException | None) -> str:
    if exc is None or isinstance(exc, EOFError):
        return "the node closed the connection"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _sftp_mkdir(sftp: paramiko.SFTPClient, path: str) -> None:
    try:
        sftp.mkdir(path)
    except OSError:
        if not stat.S_ISDIR(sftp.stat(path).st_mode or 0):  # no mode sent: not known as a folder
            raise


def _get(sftp: paramiko.SFTPClient, node: str, remote: str, local: str, top: str | None = None) -> None:
    """Copy ``remote`` (a file or a tree) to ``local``. The names the node's SFTP server lists
    are checked (one plain name each) and every path written must lie under ``top`` (the
    first ``local``): a node cannot make the copy write anywhere else."""
    top = top or local
    if not inside(top, local):
        raise UnsafePathError(f"{node}: (sftp) copy of {remote}: {local} lies outside {top}; nothing written there")
    if not stat.S_ISDIR(sftp.stat(remote).st_mode or 0):  # no mode sent: copied as a file
        os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
        sftp.get(remote, local)
        return
    os.makedirs(local, exist_ok=True)
    entries = sftp.listdir_attr(remote)
    bad = [entry.filename for entry in entries if not plain_file_name(entry.filename)]
    if bad:
        raise UnsafePathError(
            f"{node}: (sftp) copy of {remote}: the node listed {bad[0]!r} in it, "
            "which is not a plain file name; nothing of that folder was copied"
        )
    for entry in entries:
        _get(sftp, node, posixpath.join(remote, entry.filename), os.path.join(local, entry.filename), top)


def _text(data: bytes | bytearray) -> str:
    return data.decode(errors="replace")
