"""ducktape.cluster.remoteaccount: ducktape's RemoteAccount calls on a ducttape node's account.

ducktape's calls differ from ducttape's in their arguments and results: output streams include
stderr by default, ``ssh_capture`` yields lines with their newline and starts at once, processes
are found by ``ps``/``jcmd`` text, not pid files. Every call has a timeout (ducktape's have none).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import shlex
import signal as signals
import threading

from ducttape.compat.ducktape.errors import DucktapeError, TimeoutError  # noqa: A004 - ducktape's TimeoutError
from ducttape.errors import TimeoutError as _DucttapeTimeoutError
from ducttape.remote.account import LogMonitor as _LogMonitor
from ducttape.remote.account import RemoteAccount as _Account
from ducttape.remote.errors import RemoteCommandError as _DucttapeCommandError

__all__ = ["LogMonitor", "RemoteAccount", "RemoteCommandError", "SSHOutputIter"]

COMMAND_TIMEOUT = 600.0
"""Seconds a command (``ssh``, ``ssh_output``) may take: ducktape has no limit; ours is generous."""
STREAM_TIMEOUT = 3 * 3600.0
"""Seconds a streamed command (``ssh_capture``: a consumer or producer for the test's length)
may take; the runner's test timeout ends it sooner."""


class RemoteCommandError(_DucttapeCommandError, DucktapeError):
    """A command failed on a node: ducttape's error (host, command, exit status, stderr) that is
    also ducktape's (a RuntimeError with ``cmd``, ``msg`` and ``exit_status``)."""

    @classmethod
    def of(cls, exc: _DucttapeCommandError) -> "RemoteCommandError":
        err = cls(exc.host, exc.command, exc.exit_status, exc.stderr, exc.stdout, exc.timeout, exc.signal)
        err.args = exc.args  # its message (a lost connection says so)
        return err

    @property
    def cmd(self) -> str:
        return self.command

    @property
    def msg(self) -> str:
        return self.stderr_tail()


def _ducktape_errors(fn):
    """Raise ducttape's command errors as ducktape's."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RemoteCommandError:
            raise
        except _DucttapeCommandError as exc:
            raise RemoteCommandError.of(exc) from None

    return call


def _combined(cmd: str) -> str:
    """``cmd`` with its stderr in its stdout. The shell's own stderr is redirected first, so a
    lone command is still exec'd by the shell as ducktape's are (bash runs the last simple
    command of ``-c`` in its own place): ``ps`` shows the command, not a shell holding its text,
    which kafkatest's ``kill_process("iperf")`` would match and kill."""
    return f"exec 2>&1\n{cmd}"


class RemoteAccount:
    """ducktape's account API on ``account`` (a ducttape RemoteAccount); ``hostname`` is how
    other nodes reach the node."""

    def __init__(self, account: _Account, hostname: str, user: str | None = None):
        self.account = account
        self.hostname = hostname
        self.ssh_hostname = hostname
        self.externally_routable_ip = hostname
        self.user = user
        self.os = "linux"
        self.logger = logging.getLogger(f"ducttape.remote.{account.name}")

    def __str__(self) -> str:
        return f"{self.user}@{self.hostname}" if self.user else self.hostname

    def __repr__(self) -> str:
        return f"<ducktape account {self}>"

    @property
    def operating_system(self) -> str:
        return self.os

    @property
    def ssh_client(self) -> "SshClient":
        """The part of ducktape's paramiko client kafkatest uses: ``get_transport()`` (its HTTP
        metrics collector forwards a port of the node back to the driver over it)."""
        return SshClient(self.account)

    # -- commands -------------------------------------------------------------------------------

    @_ducktape_errors
    def ssh(self, cmd: str, allow_fail: bool = False, timeout_sec: float | None = None) -> int:
        return self.account.ssh(cmd, allow_fail=allow_fail, timeout=timeout_sec or COMMAND_TIMEOUT)

    @_ducktape_errors
    def ssh_output(
        self, cmd: str, allow_fail: bool = False, combine_stderr: bool = True, timeout_sec: float | None = None
    ) -> bytes:
        """The command's output as bytes (ducktape's type), stderr included by default."""
        out = self.account.ssh_output(
            _combined(cmd) if combine_stderr else cmd, allow_fail=allow_fail, timeout=timeout_sec or COMMAND_TIMEOUT
        )
        return out.encode()

    @_ducktape_errors
    def ssh_capture(
        self,
        cmd: str,
        allow_fail: bool = False,
        callback=None,
        combine_stderr: bool = True,
        timeout_sec: float | None = None,
    ) -> "SSHOutputIter":
        """Start ``cmd`` now and return an iterator over its output lines (newline kept;
        ``callback(line)`` instead when given). A failing exit status raises at the end of the
        output unless ``allow_fail``."""
        lines = self.account.ssh_capture(
            _combined(cmd) if combine_stderr else cmd, allow_fail=allow_fail, timeout=timeout_sec or STREAM_TIMEOUT
        )
        return SSHOutputIter(lines, callback, f"{self.account.name}: {cmd}")

    # -- processes ------------------------------------------------------------------------------

    @_ducktape_errors
    def alive(self, pid) -> bool:
        return self.account.ssh(f"kill -0 {int(pid)}", allow_fail=True, timeout=COMMAND_TIMEOUT) == 0

    @_ducktape_errors
    def signal(self, pid, sig, allow_fail: bool = False) -> None:
        self.account.ssh(f"kill -{int(sig)} {int(pid)}", allow_fail=allow_fail, timeout=COMMAND_TIMEOUT)

    @_ducktape_errors
    def kill_process(self, process_grep_str: str, clean_shutdown: bool = True, allow_fail: bool = False) -> None:
        """Signal every process whose ``ps ax`` line contains ``process_grep_str`` (any case)."""
        cmd = f"ps ax | grep -i {shlex.quote(process_grep_str)} | grep -v grep | awk '{{print $1}}'"
        self._signal_all(
            self.account.ssh_output(cmd, allow_fail=True, timeout=COMMAND_TIMEOUT), clean_shutdown, allow_fail
        )

    @_ducktape_errors
    def java_pids(self, match: str) -> list[int]:
        """Pids of the JVMs whose ``jcmd`` line matches the awk pattern ``match``."""
        out = self.account.ssh_output(
            f"jcmd | awk '/{match}/ {{ print $1 }}'", allow_fail=True, timeout=COMMAND_TIMEOUT
        )
        return [int(pid) for pid in out.split()]

    @_ducktape_errors
    def kill_java_processes(self, match: str, clean_shutdown: bool = True, allow_fail: bool = False) -> None:
        out = self.account.ssh_output(
            f"jcmd | awk '/{match}/ {{ print $1 }}'", allow_fail=True, timeout=COMMAND_TIMEOUT
        )
        self._signal_all(out, clean_shutdown, allow_fail)

    def _signal_all(self, pids: str, clean_shutdown: bool, allow_fail: bool) -> None:
        sig = signals.SIGTERM if clean_shutdown else signals.SIGKILL
        for pid in pids.split():
            self.signal(pid, sig, allow_fail=allow_fail)

    # -- files ----------------------------------------------------------------------------------

    @_ducktape_errors
    def create_file(self, path: str, contents: str) -> None:
        self.account.create_file(path, contents)

    @_ducktape_errors
    def copy_to(self, src: str, dest: str) -> None:
        self.account.copy_to(src, dest)

    @_ducktape_errors
    def copy_from(self, src: str, dest: str) -> None:
        self.account.copy_from(src, dest)

    @_ducktape_errors
    def mkdir(self, path: str, mode: int = 0o755) -> None:
        self.account.ssh(f"mkdir {shlex.quote(path)} && chmod {mode:o} {shlex.quote(path)}", timeout=COMMAND_TIMEOUT)

    @_ducktape_errors
    def mkdirs(self, path: str, mode: int = 0o755) -> None:
        self.account.ssh(f"mkdir -p {shlex.quote(path)} && chmod {mode:o} {shlex.quote(path)}", timeout=COMMAND_TIMEOUT)

    @_ducktape_errors
    def remove(self, path: str, allow_fail: bool = False) -> None:
        self.account.ssh(f"rm -r{'f' if allow_fail else ''} {path}", allow_fail=allow_fail, timeout=COMMAND_TIMEOUT)

    def exists(self, path: str) -> bool:
        return self._test("-e", path) or self._test("-L", path)

    def isfile(self, path: str) -> bool:
        return self._test("-f", path)

    def isdir(self, path: str) -> bool:
        return self._test("-d", path)

    def islink(self, path: str) -> bool:
        return self._test("-L", path)

    @_ducktape_errors
    def _test(self, flag: str, path: str) -> bool:
        return self.account.ssh(f"test {flag} {shlex.quote(path)}", allow_fail=True, timeout=COMMAND_TIMEOUT) == 0

    @contextlib.contextmanager
    def monitor_log(self, log: str):
        """A LogMonitor of ``log`` from its present end (its ``offset`` may be set back)."""
        yield LogMonitor(self.account, log)


class SshClient:
    """``get_transport()``: the node's open SSH transport (a paramiko Transport), connected if
    it was not; a node ducttape does not reach over SSH has none."""

    def __init__(self, account: _Account):
        self._account = account

    def get_transport(self):
        connect = getattr(self._account, "connect", None)
        if connect is None:
            raise DucktapeError(f"node {self._account.name} is not reached over SSH: it has no ssh_client")
        return connect()


class LogMonitor:
    """``wait_until(pattern, timeout_sec=..., backoff_sec=..., err_msg=...)`` for a line matching
    ``pattern`` written to the log after ``offset``."""

    def __init__(self, account: _Account, log: str):
        self._monitor = _LogMonitor(account, log)
        self.log = log

    @property
    def offset(self) -> int:
        return self._monitor.offset

    @offset.setter
    def offset(self, value: int) -> None:
        self._monitor.offset = value

    def wait_until(
        self, pattern: str, timeout_sec: float = 60.0, backoff_sec: float = 0.1, err_msg: str = "", **_ignored
    ) -> None:
        try:
            self._monitor.wait_until(pattern, timeout_sec)
        except _DucttapeTimeoutError as exc:
            message = err_msg() if callable(err_msg) else err_msg
            raise TimeoutError(f"{message} ({exc})" if message else str(exc)) from None


class SSHOutputIter:
    """An iterator over a running command's lines with ``has_next(timeout_sec)``. The command
    runs in a thread from the start, as ducktape's does."""

    _END = object()

    def __init__(self, lines, callback, what: str):
        self._queue: queue.Queue = queue.Queue()
        self._callback = callback
        self._next = self._END
        self._done = False
        threading.Thread(target=self._pump, args=(lines,), name=f"capture {what}"[:60], daemon=True).start()

    def _pump(self, lines) -> None:
        try:
            for line in lines:
                self._queue.put(("line", line + "\n"))
        except _DucttapeCommandError as exc:
            self._queue.put(("error", exc if isinstance(exc, RemoteCommandError) else RemoteCommandError.of(exc)))
        except BaseException as exc:  # noqa: BLE001 - raised to the reader
            self._queue.put(("error", exc))
        self._queue.put(("end", None))

    def _take(self, timeout: float | None):
        if self._done:
            return self._END
        kind, value = self._queue.get(timeout=timeout)
        if kind == "error":
            self._done = True
            raise value
        if kind == "end":
            self._done = True
            return self._END
        return self._callback(value) if self._callback else value

    def __iter__(self):
        return self

    def __next__(self):
        if self._next is not self._END:
            item, self._next = self._next, self._END
            return item
        item = self._take(None)
        if item is self._END:
            raise StopIteration
        return item

    next = __next__

    def has_next(self, timeout_sec: float | None = None) -> bool:
        """Whether another line comes (within ``timeout_sec`` if given)."""
        if self._next is self._END:
            try:
                self._next = self._take(timeout_sec)
            except queue.Empty:
                return False
        return self._next is not self._END
