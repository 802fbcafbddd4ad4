"""Failures of commands run on nodes."""

from __future__ import annotations

STDERR_TAIL_LINES = 10


class RemoteCommandError(Exception):
    """A command on a node exited non-zero (or timed out).

    Carries the node's name, the command, its exit status and the last lines of its stderr; the
    message says all four so a failing test shows them in its report.
    """

    def __init__(self, host: str, command: str, exit_status: int | None, stderr: str = "",
                 stdout: str = "", timeout: float | None = None):
        self.host = host
        self.command = command
        self.exit_status = exit_status
        self.stderr = stderr
        self.stdout = stdout
        self.timeout = timeout
        super().__init__(self._message())

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])

    def _message(self) -> str:
        if self.timeout is not None:
            outcome = f"timed out after {self.timeout:g}s"
        else:
            outcome = f"exited {self.exit_status}"
        msg = f"on {self.host}: `{self.command}` {outcome}"
        tail = self.stderr_tail()
        if tail:
            msg += "; stderr: " + tail.replace("\n", " | ")
        return msg
