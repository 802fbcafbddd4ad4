"""What the same work costs without a framework: the floors of benchmarks B and D.

- paramiko alone: one connection with TCP_NODELAY, a channel per command;
- OpenSSH: ``ssh`` through a ControlMaster connection (one process per command, as a shell
  script would do it);
- ``scp`` through the same ControlMaster connection (no new SSH handshake per copy).

``python3 benchmarks/floors.py paramiko HOST PORT USER KEY N`` prints one JSON line; the OpenSSH
floors are functions called by run.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

TIMEOUT = 60


def paramiko_floor(host: str, port: str, user: str, key: str, n: str) -> None:
    import paramiko

    from probe import emit, timed_calls

    start = time.perf_counter()
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(host, int(port), user, key_filename=key, look_for_keys=False,
                   allow_agent=False, timeout=TIMEOUT)
    transport = client.get_transport()
    transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run(cmd: str) -> bytes:
        channel = transport.open_session(timeout=TIMEOUT)
        channel.settimeout(TIMEOUT)
        channel.exec_command(cmd)
        out = b""
        while True:
            chunk = channel.recv(65536)
            if not chunk:
                break
            out += chunk
        status = channel.recv_exit_status()
        channel.close()
        assert status == 0, (cmd, status)
        return out

    try:
        run("true")
        first = time.perf_counter() - start  # connecting and the first command, as in B
        true = timed_calls(lambda: run("true"), int(n))

        def echo() -> None:
            assert run("echo hi") == b"hi\n"

        echo_times = timed_calls(echo, int(n))
    finally:
        client.close()
    emit({"first_s": first, "true_s": true, "echo_s": echo_times})


class ControlMaster:
    """An OpenSSH master connection to the bench user; ``ssh``/``scp`` calls reuse it."""

    def __init__(self, port: int, user: str, options: list[str], folder: str):
        self.target = f"{user}@127.0.0.1"
        self.options = options + ["-o", "ControlMaster=auto",
                                  "-o", f"ControlPath={folder}/cm-%r@%h:%p",
                                  "-o", "ControlPersist=60"]
        self.port = str(port)

    def ssh(self, cmd: str) -> str:
        proc = subprocess.run(["ssh", *self.options, "-p", self.port, self.target, cmd],
                              capture_output=True, text=True, timeout=TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"ssh {cmd!r} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def scp_from(self, remote: str, local: str) -> None:
        proc = subprocess.run(["scp", "-q", *self.options, "-P", self.port,
                               f"{self.target}:{remote}", local],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"scp failed ({proc.returncode}): {proc.stderr.strip()}")

    def close(self) -> None:
        subprocess.run(["ssh", *self.options, "-O", "exit", "-p", self.port, self.target],
                       capture_output=True, timeout=TIMEOUT)


def openssh_floor(master: ControlMaster, n: int) -> dict:
    """Like the paramiko floor, through ``ssh`` processes on the master connection."""
    master.ssh("true")  # opens the master
    times = {"true_s": [], "echo_s": []}
    for key, cmd, expect in (("true_s", "true", ""), ("echo_s", "echo hi", "hi\n")):
        for _ in range(n):
            start = time.perf_counter()
            out = master.ssh(cmd)
            times[key].append(time.perf_counter() - start)
            assert out == expect, out
    return times


def scp_floor(master: ControlMaster, remote: str, local_dir: str) -> dict:
    master.ssh("true")
    target = os.path.join(local_dir, "big")
    start = time.perf_counter()
    master.scp_from(remote, target)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "bytes": os.path.getsize(target)}


if __name__ == "__main__":
    {"paramiko": paramiko_floor}[sys.argv[1]](*sys.argv[2:])
