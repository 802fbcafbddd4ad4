"""Failures of commands run on nodes."""

from __future__ import annotations

STDERR_TAIL_LINES = 10


class RemoteCommandError(Exception):
    """A command on a node exited non-zero, was killed by a signal, or timed out.

    Carries the node's name, the command, its exit status (None when it has none) and the last
    lines of its stderr; the message says all of them so a failing test shows them in its report.
    """

    def __init__(
        self,
        host: str,
        command: str,
        exit_status: int | None,
        stderr: str = "",
        stdout: str = "",
        timeout: float | None = None,
        signal: str | None = None,
    ):
        self.host = host
        self.command = command
        self.exit_status = exit_status
        self.stderr = stderr
        self.stdout = stdout
        self.timeout = timeout
        self.signal = signal
        """The signal that killed the command (``SIGKILL``, or ``a signal`` when the name is
        unknown), if one did."""
        super().__init__(self._message())

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        """The last ``lines`` lines of the command's stderr."""
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])

    def _outcome(self) -> str:
        if self.timeout is not None:
            return f"timed out after {self.timeout:g}s"
        if self.signal is not None:
            return f"was killed by {self.signal}"
        return f"exited {self.exit_status}"

    def _message(self) -> str:
        msg = f"on {self.host}: `{self.command}` {self._outcome()}"
        tail = self.stderr_tail()
        if tail:
            msg += "; stderr: " + tail.replace("\n", " | ")
        return msg


class ConnectionLostError(RemoteCommandError):
    """The connection to the node broke while a command ran: the node or its sshd died, or the
    node stopped answering keepalives (a silent network cut, a paused host). What became of the
    command on the node is unknown; the account reconnects on its next call."""

    def __init__(self, host: str, command: str, elapsed: float, reason: str, stderr: str = "", stdout: str = ""):
        self.elapsed = elapsed
        self.reason = reason
        super().__init__(host, command, None, stderr, stdout)

    def _outcome(self) -> str:
        return f"connection lost after {self.elapsed:.1f}s ({self.reason})"


class ProcessExitedError(Exception):
    """A wait gave up because the process it waited on (its ``owner``) has exited; ``doing``
    says what the wait was for."""

    def __init__(self, message: str, doing: str = ""):
        super().__init__(message)
        self.doing = doing


class UnsafePathError(Exception):
    """A node named a file that is no plain file name, or that would be written outside the
    folder a copy writes into; nothing is written for it."""
