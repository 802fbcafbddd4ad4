"""Helpers shared by the worker scripts; imported under either framework's interpreter, so it
needs nothing but the standard library and paramiko (which both frameworks use for SSH)."""

from __future__ import annotations

import json
import sys
import time

import paramiko


class RemoteOps:
    """Counts what a framework asks of the SSH server: commands (exec requests on a channel)
    and SFTP requests. Installed by wrapping paramiko's own methods, so it sees every call."""

    def __init__(self):
        self.execs = 0
        self.sftp = 0
        original_exec = paramiko.Channel.exec_command
        original_request = paramiko.SFTPClient._request

        def exec_command(channel, command):
            self.execs += 1
            return original_exec(channel, command)

        def request(client, *args):
            self.sftp += 1
            return original_request(client, *args)

        paramiko.Channel.exec_command = exec_command
        paramiko.SFTPClient._request = request

    def snapshot(self) -> tuple[int, int]:
        return self.execs, self.sftp


def timed_calls(fn, n: int) -> list[float]:
    """Call ``fn()`` ``n`` times; return each call's duration in seconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def emit(result: dict) -> None:
    """Hand the result to run.py: one JSON line, the last line of stdout."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
