"""RemoteAccount: run commands and move files on one node.

The account wraps an invoke ``Context``: a ``fabric.Connection`` for nodes reached over SSH, a
plain ``invoke.Context`` for logical nodes on this machine. Both have the same ``run()``, so
everything here is written once; only file transfer differs (see ``local.py`` and ``ssh.py``).
"""

from __future__ import annotations

import logging
import re
import shlex
import signal
import threading
import time
from typing import Callable, Iterator, Mapping, cast
from urllib.parse import urlsplit

from invoke import Context
from invoke.exceptions import CommandTimedOut
from invoke.runners import Promise, Result

from ducttape.errors import TimeoutError  # noqa: A004 - ducttape's own
from ducttape.remote import in_flight
from ducttape.remote.errors import ProcessExitedError, RemoteCommandError

log = logging.getLogger("ducttape.remote")
q = shlex.quote

DEFAULT_TIMEOUT = 300.0
"""Seconds any single command may take unless the caller says otherwise."""

TAG_VARIABLE = "DUCTTAPE_RUN"
"""Environment variable that marks every process a test attempt started on a node (see ``tag``)."""

_SESSION_LIVE = "ps -o stat= -p $pid --sid $pid 2>/dev/null | grep -qv '^Z'"
"""Shell test: does process $pid, or any process of its session, run? (The process itself counts
before it has made its session; zombies not yet reaped don't.)"""

POLL_FIRST, POLL_MAX = 0.05, 0.5
"""Polling intervals (seconds) of the wait_* helpers: start fast, back off to at most POLL_MAX."""

Guard = Callable[[], None]
"""Called between the polls of a wait; raises to give the wait up early (e.g. when the process
that should answer has exited)."""


class RemoteAccount:
    """Commands, files and processes on one node.

    Every call takes a ``timeout`` (seconds) and raises instead of hanging: a command's
    ``timeout=None`` means ``DEFAULT_TIMEOUT`` (300 s), after which the command is stopped and
    ``RemoteCommandError`` ("timed out after 300s") is raised; the ``wait_for_*`` helpers default
    to 60 s and raise ``ducttape.errors.TimeoutError``. Output is hidden and logged at DEBUG.
    Failing commands raise ``RemoteCommandError`` unless ``allow_fail=True``.
    """

    def __init__(self, name: str, ctx: Context, address: str):
        self.name = name
        self.address = address
        self._ctx = ctx
        self.tag: str | None = None
        """While set, every command runs with ``DUCTTAPE_RUN=<tag>`` in its environment, which
        its children (daemons that left the session included) inherit: ``kill_tagged(tag)``
        finds and ends them all. The runner sets it in a test's process."""
        self.used = False
        """Whether a tagged command ran on this account (the runner sweeps only such nodes)."""
        self.environment: dict[str, str] = {}
        """Variables exported for every command run on this account (e.g. the JVM options of
        ``--jvm-logs``), inherited by what the commands start."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # -- commands -------------------------------------------------------------------------------

    def run(self, cmd: str, allow_fail: bool = False, timeout: float | None = None) -> Result:
        """Run ``cmd`` in a shell on the node and return its invoke ``Result`` (``.stdout``,
        ``.stderr``, ``.exited``); stopped after ``timeout`` seconds (None: ``DEFAULT_TIMEOUT``,
        300 s)."""
        timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        log.debug("%s$ %s", self.name, cmd)
        try:
            with in_flight.running(self.name, cmd):
                result = self._ctx.run(self._tagged(cmd), hide=True, warn=True, timeout=timeout, in_stream=False)
        except CommandTimedOut as exc:
            raise RemoteCommandError(
                self.name, cmd, None, exc.result.stderr, exc.result.stdout, timeout=timeout
            ) from None
        assert result is not None  # run() returns None only for disown=True
        self._log_output(result)
        if result.exited != 0 and not allow_fail:
            raise failure(self.name, cmd, result.exited, result.stderr, result.stdout)
        return result

    def ssh(self, cmd: str, allow_fail: bool = False, timeout: float | None = None) -> int:
        """Run ``cmd``; return its exit status (raising on non-zero unless ``allow_fail``)."""
        return self.run(cmd, allow_fail=allow_fail, timeout=timeout).exited

    def ssh_output(self, cmd: str, allow_fail: bool = False, timeout: float | None = None) -> str:
        """Run ``cmd`` and return its stdout."""
        return self.run(cmd, allow_fail=allow_fail, timeout=timeout).stdout

    def ssh_capture(self, cmd: str, allow_fail: bool = False, timeout: float | None = None) -> Iterator[str]:
        """Run ``cmd`` and yield its stdout line by line while it runs.

        The exit status is checked once the output ends (raising as ``ssh`` does).
        """
        timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        log.debug("%s$ %s (streaming)", self.name, cmd)
        sink = _LineSink()
        # invoke types run() as returning Result | None; with asynchronous=True it is a Promise
        promise = cast(
            Promise,
            self._ctx.run(
                self._tagged(cmd),
                hide=False,
                warn=True,
                timeout=timeout,
                in_stream=False,
                asynchronous=True,
                out_stream=sink,
                err_stream=_Discard(),
            ),
        )
        outcome: dict = {}

        def join() -> None:
            try:
                outcome["result"] = promise.join()
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer below
                outcome["error"] = exc
            finally:
                sink.close()

        threading.Thread(target=join, name=f"capture-{self.name}", daemon=True).start()
        with in_flight.running(self.name, cmd):
            yield from sink.lines()
        if "error" in outcome:
            exc = outcome["error"]
            if isinstance(exc, CommandTimedOut):
                raise RemoteCommandError(self.name, cmd, None, exc.result.stderr, timeout=timeout) from None
            raise exc
        result = outcome["result"]
        if result.exited != 0 and not allow_fail:
            raise failure(self.name, cmd, result.exited, result.stderr)

    # -- files ----------------------------------------------------------------------------------

    def mkdirs(self, path: str, timeout: float | None = None) -> None:
        """Create directory ``path`` and its parents on the node (``mkdir -p``)."""
        self.run(f"mkdir -p {q(path)}", timeout=timeout)

    def exists(self, path: str, timeout: float | None = None) -> bool:
        """Whether ``path`` exists on the node."""
        return self.run(f"test -e {q(path)}", allow_fail=True, timeout=timeout).exited == 0

    def remove(self, path: str, timeout: float | None = None) -> None:
        """Remove a file or a directory tree; a missing path is fine."""
        self.run(f"rm -rf {q(path)}", timeout=timeout)

    def create_file(self, path: str, text: str, private: bool = False) -> None:
        """Write ``text`` to ``path`` on the node, creating parent directories; ``private``:
        readable by its owner only (mode 0600, set before the text is written), for files
        that hold a password."""
        raise NotImplementedError

    def read_file(self, path: str) -> str:
        """The text of file ``path`` on the node."""
        return self.ssh_output(f"cat {q(path)}")

    def copy_to(self, local_path: str, remote_path: str) -> None:
        """Copy a local file or directory to ``remote_path`` on the node (like ``cp -r``)."""
        raise NotImplementedError

    def copy_from(self, remote_path: str, local_path: str) -> None:
        """Copy a file or directory from the node to ``local_path`` (like ``cp -r``)."""
        raise NotImplementedError

    # -- processes ------------------------------------------------------------------------------

    def spawn(
        self,
        cmd: str,
        pid_file: str | None = None,
        log_file: str | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> int:
        """Start ``cmd`` detached in its own session; return its pid.

        stdout and stderr are appended to ``log_file`` (kept across restarts); the pid (also the
        process group id, so the whole tree can be signalled) is written to ``pid_file``. The call
        returns at once.

        Both files are required: the account has no folder of its own to put them in. In a
        Service, ``self.spawn(node, cmd)`` passes the service's ``self.pid_file(node)`` and
        ``self.path(node, "service.log")``, where ``stop``, ``clean`` and the log collection
        find them.
        """
        if not pid_file or not log_file:
            raise TypeError(
                f"spawn({cmd!r}) needs a pid file and a log file: call "
                "node.account.spawn(cmd, pid_file, log_file), or in a Service "
                "self.spawn(node, cmd), which keeps both in the service's folder"
            )
        exports = "".join(f"export {k}={q(str(v))}; " for k, v in (env or {}).items())
        dirs = {p.rsplit("/", 1)[0] for p in (pid_file, log_file) if "/" in p}
        script = (
            f"mkdir -p {' '.join(q(d) for d in sorted(dirs))} || exit 1; "
            + (f"cd {q(cwd)} || exit 1; " if cwd else "")
            + f"setsid sh -c {q(exports + 'exec ' + cmd)} >> {q(log_file)} 2>&1 < /dev/null & "
            + f"echo $! > {q(pid_file)}; echo $!"
        )
        pid = int(self.ssh_output(script, timeout=timeout).strip())
        log.debug("%s: spawned pid %d (%s)", self.name, pid, pid_file)
        return pid

    def pids(self, pid_file: str, timeout: float | None = None) -> list[int]:
        """The process recorded in ``pid_file`` if it (or anything of its session) still runs."""
        out = self.ssh_output(
            f"pid=$(cat {q(pid_file)} 2>/dev/null) && {_SESSION_LIVE} && echo $pid", allow_fail=True, timeout=timeout
        )
        return [int(p) for p in out.split()]

    def alive(self, pid: int, timeout: float | None = None) -> bool:
        """Whether process ``pid`` runs (a zombie awaiting its reaper counts as gone)."""
        return self.ssh(f"ps -o stat= -p {int(pid)} | grep -qv '^Z'", allow_fail=True, timeout=timeout) == 0

    def signal(self, pid: int, sig: str | int = "TERM", group: bool = True, timeout: float | None = None) -> bool:
        """Send ``sig`` to ``pid`` (to its whole process group when ``group``); False if there is
        no such process."""
        target = f"-- -{int(pid)}" if group else str(int(pid))
        return self.ssh(f"kill -{_signame(sig)} {target} 2>/dev/null", allow_fail=True, timeout=timeout) == 0

    def kill_process(self, pid_file: str, sig: str | int = "TERM", timeout: float = 30.0) -> bool:
        """Signal the process group recorded in ``pid_file`` and wait until it is gone.

        After ``timeout`` seconds the group gets SIGKILL. Returns True if it ended on ``sig``
        alone (or was not running), False if it had to be killed. One round trip to the node.
        """
        ticks = max(1, int(timeout / 0.05))
        script = (
            f"pid=$(cat {q(pid_file)} 2>/dev/null) || exit 0; "
            f"kill -{_signame(sig)} -- -$pid 2>/dev/null || kill -{_signame(sig)} $pid 2>/dev/null || exit 0; "
            f"i=0; while {_SESSION_LIVE}; do "
            f"  if [ $i -ge {ticks} ]; then kill -KILL -- -$pid 2>/dev/null; kill -KILL $pid 2>/dev/null; exit 7; fi; "
            f"  sleep 0.05; i=$((i+1)); "
            f"done; rm -f {q(pid_file)}"
        )
        status = self.ssh(script, allow_fail=True, timeout=timeout + 30)
        if status not in (0, 7):
            raise RemoteCommandError(self.name, script, status)
        return status == 0

    def kill_tagged(self, tag: str, timeout: float = 30.0) -> list[int]:
        """SIGKILL every process on the node that carries ``DUCTTAPE_RUN=<tag>`` in its
        environment, until none is left; return the pids killed (empty: nothing was running).

        The runner's sweep after a test attempt: nothing the test started, however detached,
        outlives it. Raises RemoteCommandError if processes remain after ``timeout``.
        """
        ticks = max(1, int(timeout / 0.05))
        script = (
            f"me=$$; killed=; i=0; "
            f"while :; do "
            f"  pids=$(grep -lsxzF {q(f'{TAG_VARIABLE}={tag}')} /proc/[0-9]*/environ | cut -d/ -f3 | grep -vx $me); "
            f'  [ -z "$pids" ] && break; '
            f"  [ $i -ge {ticks} ] && {{ echo $pids >&2; exit 7; }}; "
            f'  kill -KILL $pids 2>/dev/null; killed="$killed $pids"; sleep 0.05; i=$((i+1)); '
            f"done; echo $killed"
        )
        saved, self.tag = self.tag, None  # the sweep itself must not carry the tag
        try:
            out = self.ssh_output(script, timeout=timeout + 30)
        finally:
            self.tag = saved
        return sorted({int(p) for p in out.split()})

    def after_fork(self) -> None:
        """Make the account usable in a forked child process (the runner's test processes):
        connections and locks of the parent are left to the parent."""

    # -- waiting --------------------------------------------------------------------------------

    def monitor_log(self, path: str) -> "LogMonitor":
        """Start watching ``path``: later waits only see lines written after this call."""
        return LogMonitor(self, path)

    def wait_for_log(
        self,
        path: str,
        regex: str,
        timeout: float = 60.0,
        monitor: "LogMonitor | None" = None,
        guard: Guard | None = None,
        owner: str | None = None,
    ) -> str:
        """Wait for a line matching ``regex`` (Python syntax) written to ``path`` after the call
        started (or after ``monitor`` was created); return the line. ``guard`` as in ``poll``,
        ``owner`` as in ``poll_owned``."""
        return (monitor or self.monitor_log(path)).wait_until(regex, timeout, guard=guard, owner=owner)

    def wait_for_http(
        self,
        port: int,
        path: str = "/",
        timeout: float = 60.0,
        address: str | None = None,
        status: int | None = None,
        guard: Guard | None = None,
        owner: str | None = None,
    ) -> int:
        """Poll ``http://address:port/path`` from the node until it answers; return the status.

        With ``status`` given, wait for exactly that status; otherwise any HTTP answer will do.
        With ``owner`` (a pid file as ``spawn`` writes), an answer counts only once a process of
        that session listens on ``port``, and the wait ends as ``poll_owned`` says. ``guard`` as
        in ``poll``.
        """
        check_http_target('node.account.wait_for_http(port, path="/", timeout=60.0)', port, path)
        url = f"http://{address or self.address}:{int(port)}{path}"
        cmd = f"curl -s -o /dev/null --max-time 5 -w '%{{http_code}}' {q(url)}"
        last = "no answer"

        def answered() -> bool:
            nonlocal last
            code = self.ssh_output(cmd, allow_fail=True, timeout=15).strip() or "000"
            last = f"HTTP {code}" if code != "000" else "no answer"
            if code == "000" or (status is not None and int(code) != status):
                return False
            if owner and int(port) not in self.listening_ports(owner):
                last += f" from a process not of {owner}"
                return False
            return True

        self.poll_owned(
            answered,
            timeout,
            lambda: (
                f"{self.name}: {url} did not answer"
                f"{'' if status is None else f' {status}'} within {timeout:g}s (last: {last})"
            ),
            owner=owner,
            doing=f"waiting for {url}",
            guard=guard,
        )
        return int(last.split()[1])

    def poll_owned(
        self,
        check: Callable[[], bool],
        timeout: float,
        describe: Callable[[], str],
        owner: str | None = None,
        doing: str = "waiting",
        guard: Guard | None = None,
    ) -> None:
        """``poll(check, timeout, describe, guard)``; with ``owner`` (a pid file as ``spawn``
        writes) the wait fails with ProcessExitedError as soon as no process of that session
        runs, and its TimeoutError names the TCP ports those processes listen on."""
        if owner is None:
            poll(check, timeout, describe, guard=guard)
            return

        def owner_runs() -> None:
            if guard is not None:
                guard()
            if not self.pids(owner):
                raise ProcessExitedError(f"{self.name}: the process of {owner} exited while {doing}", doing)

        try:
            poll(check, timeout, describe, guard=owner_runs)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; {self.describe_listening(owner)}") from None

    def listening_ports(self, pid_file: str, timeout: float | None = None) -> list[int]:
        """The TCP ports that the processes of the session recorded in ``pid_file`` (the process
        and its children) listen on, sorted; found in /proc on the node (a listening socket in
        /proc/net/tcp{,6} whose inode is among the session's open files)."""
        script = (
            f"pid=$(cat {q(pid_file)} 2>/dev/null) || exit 0; "
            f"for p in $(ps -o pid= --sid $pid); do ls -l /proc/$p/fd 2>/dev/null; done "
            f"| sed -n 's/.*socket:\\[\\([0-9]*\\)\\].*/\\1/p' "
            f'| awk \'NR == FNR {{ owned[$1] = 1; next }} $4 == "0A" && ($10 in owned) '
            f"{{ print substr($2, length($2) - 3) }}' - /proc/net/tcp /proc/net/tcp6 2>/dev/null"
        )
        out = self.ssh_output(script, allow_fail=True, timeout=timeout)
        return sorted({int(port, 16) for port in out.split()})

    def listens(self, pid_file: str, port: int, timeout: float | None = None) -> bool:
        """Whether a process of the session recorded in ``pid_file`` listens on TCP ``port``."""
        return int(port) in self.listening_ports(pid_file, timeout)

    def describe_listening(self, pid_file: str) -> str:
        """``the process listens on TCP 2380, 12379`` (or ``on no TCP port``): what the processes
        of the session recorded in ``pid_file`` listen on, for messages."""
        ports = self.listening_ports(pid_file, timeout=30)
        return (
            f"the process listens on TCP {', '.join(map(str, ports))}"
            if ports
            else "the process listens on no TCP port"
        )

    def close(self) -> None:
        """Release the connection (a no-op for local accounts)."""

    # -- internals ------------------------------------------------------------------------------

    def _tagged(self, cmd: str) -> str:
        cmd = "".join(f"{k}={q(v)}; export {k}; " for k, v in self.environment.items()) + cmd
        if self.tag is None:
            return cmd
        self.used = True
        return f"{TAG_VARIABLE}={q(self.tag)}; export {TAG_VARIABLE}; {cmd}"

    def _log_output(self, result: Result) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        for label, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            if text.strip():
                log.debug("%s %s (exit %d):\n%s", self.name, label, result.exited, _truncate(text))


class LogMonitor:
    """Watches a log file from the byte offset it had when the monitor was made."""

    def __init__(self, account: RemoteAccount, path: str):
        self.account = account
        self.path = path
        size = account.ssh_output(f"stat -c %s {q(path)} 2>/dev/null || echo 0", timeout=30)
        self.offset = int(size.strip() or 0)
        self._partial = ""

    def wait_until(
        self, regex: str, timeout: float = 60.0, guard: Guard | None = None, owner: str | None = None
    ) -> str:
        """Return the first new line matching ``regex``; raise TimeoutError after ``timeout``.
        ``guard`` as in ``poll``; with ``owner`` (a pid file as ``spawn`` writes) it fails as soon
        as that process has exited (``RemoteAccount.poll_owned``)."""
        pattern = re.compile(regex)
        found: list[str] = []
        seen: list[str] = []

        def check() -> bool:
            chunk = self.account.ssh_output(
                f"tail -c +{self.offset + 1} {q(self.path)} 2>/dev/null", allow_fail=True, timeout=30
            )
            if not chunk:
                return False
            self.offset += len(chunk.encode())
            lines = (self._partial + chunk).split("\n")
            self._partial = lines.pop()
            for line in lines:
                seen.append(line)
                if pattern.search(line):
                    found.append(line)
                    return True
            del seen[:-5]
            return False

        self.account.poll_owned(
            check,
            timeout,
            lambda: (
                f"{self.account.name}: no line matching /{regex}/ in {self.path} within {timeout:g}s"
                + (
                    f"; last lines: {' | '.join(clip(line) for line in seen[-5:])}"
                    if seen
                    else "; nothing new was written"
                )
            ),
            owner=owner,
            doing=f"waiting for /{regex}/ in {self.path}",
            guard=guard,
        )
        return found[0]


def failure(
    host: str, cmd: str, exited: int | None, stderr: str = "", stdout: str = "", killed_by: str | None = None
) -> RemoteCommandError:
    """The error for a command that ended with status ``exited``, or was killed by signal
    ``killed_by``; a negative status (how Python and invoke report a process killed by a signal)
    names its signal; None: no status."""
    if killed_by is None and exited is not None and exited < 0:
        try:
            killed_by = signal.Signals(-exited).name
        except ValueError:
            killed_by = f"signal {-exited}"
    if killed_by is None:
        return RemoteCommandError(host, cmd, exited, stderr, stdout)
    return RemoteCommandError(host, cmd, None, stderr, stdout, signal=killed_by)


def check_http_target(form: str, port: object, path: object) -> None:
    """Raise TypeError, one line naming ``form`` (the right call), unless ``port`` is a port
    number and ``path`` a URL path; a URL given instead is taken apart in the message."""
    if isinstance(port, int) and not isinstance(port, bool) or isinstance(port, str) and port.isdigit():
        if isinstance(path, str) and path.startswith("/"):
            return
        raise TypeError(
            f"wait_for_http: path {path!r} is the part of the URL after the port, starting with '/': call {form}"
        )
    hint = ""
    if isinstance(port, str) and "://" in port:
        parts = urlsplit(port)
        if parts.port:
            hint = f', here wait_for_http({parts.port}, path="{parts.path or "/"}")'
    raise TypeError(f"wait_for_http takes a port number, not {port!r}: call {form}{hint}")


def poll(check, timeout: float, describe, guard: Guard | None = None) -> None:
    """Call ``check()`` until it returns true, backing off; raise TimeoutError(describe()).

    After each check ``guard()`` (if given) runs, the successful one included (what answered
    must still be there); whatever it raises ends the wait.
    """
    deadline = time.monotonic() + timeout
    interval = POLL_FIRST
    while True:
        done = check()
        if guard is not None:
            guard()
        if done:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(describe())
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, POLL_MAX)


class _LineSink:
    """A write-only stream that hands complete lines to a reader thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._lines: list[str] = []
        self._partial = ""
        self._closed = False

    def write(self, data: str) -> int:
        with self._cond:
            parts = (self._partial + data).split("\n")
            self._partial = parts.pop()
            self._lines.extend(parts)
            self._cond.notify()
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        with self._cond:
            if self._partial:
                self._lines.append(self._partial)
                self._partial = ""
            self._closed = True
            self._cond.notify()

    def lines(self) -> Iterator[str]:
        while True:
            with self._cond:
                while not self._lines and not self._closed:
                    self._cond.wait()
                batch, self._lines = self._lines, []
                done = self._closed
            yield from batch
            if done and not batch:
                return


class _Discard:
    def write(self, data: str) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _signame(sig: str | int) -> str:
    return str(sig) if isinstance(sig, int) else sig.upper().removeprefix("SIG")


def clip(line: str, limit: int = 200) -> str:
    """``line``, cut to ``limit`` characters (a JSON log's lines are long) for a message."""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _truncate(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more chars)"
