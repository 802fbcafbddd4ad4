"""Helpers for the framework's own tests (imported by test modules and conftest)."""

from __future__ import annotations

import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


GITHUB = "https://github.com/"


def git_mirror_env(mirrors: str | None = None) -> dict[str, str]:
    """git configuration, as environment variables, that maps ``https://github.com/`` to bare
    mirrors (``<owner>/<name>.git``). Given a folder: exactly that one mapping (for a fresh
    environment, such as the bare root of tests/fresh). By default: ``<repo>/../shared/git`` when
    it exists, added to the environment's own GIT_CONFIG_* variables so a mapping there keeps
    working; {} when that folder does not exist or is mapped already (as .ci/run does)."""
    if mirrors is not None:
        return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.file://{mirrors}/.insteadOf",
                "GIT_CONFIG_VALUE_0": GITHUB}
    mirrors = os.path.join(os.path.dirname(REPO), "shared", "git")
    key = f"url.file://{mirrors}/.insteadOf"
    n = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    if not os.path.isdir(mirrors) or any(os.environ.get(f"GIT_CONFIG_KEY_{i}") == key for i in range(n)):
        return {}
    return {"GIT_CONFIG_COUNT": str(n + 1), f"GIT_CONFIG_KEY_{n}": key, f"GIT_CONFIG_VALUE_{n}": GITHUB}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def write_cluster_file(path, sshd, scratch_root, n: int = 3) -> str:
    """A json cluster file of ``n`` nodes, all on the test sshd, each with its own scratch dir;
    they share one build_dir under ``scratch_root`` (a session syncs the local build there once)."""
    nodes = [{"name": f"host{i}", "hostname": "127.0.0.1", "port": sshd["port"], "user": sshd["user"],
              "key_file": sshd["key_file"], "address": f"127.0.2.{i}",
              "scratch": os.path.join(str(scratch_root), f"host{i}"),
              "build_dir": os.path.join(str(scratch_root), "build")} for i in range(1, n + 1)]
    with open(path, "w") as f:
        json.dump({"nodes": nodes, "known_hosts": sshd["known_hosts"]}, f)
    return str(path)


def run_cli(*args: str, cwd: str = REPO, env: dict | None = None, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m invoke ARGS`` in the repository as a user would; capture output."""
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})}, **kwargs)


def git_mirrors() -> str | None:
    """The folder of bare git mirrors that stands in for https://github.com/ here, or None.

    The one git is already told to use (``url.file://DIR/.insteadOf https://github.com/``, e.g.
    from GIT_CONFIG_* variables), else ``<repository>/../shared/git`` when that folder exists.
    """
    listed = subprocess.run(["git", "config", "--get-regexp", r"^url\..*\.insteadof$"],
                            capture_output=True, text=True, timeout=30).stdout
    for line in listed.splitlines():
        key, _, value = line.partition(" ")
        url = key[len("url."):-len(".insteadof")]
        if value.strip() == "https://github.com/" and url.startswith("file://"):
            return url[len("file://"):].rstrip("/")
    beside = os.path.join(os.path.dirname(REPO), "shared", "git")
    return beside if os.path.isdir(beside) else None



def ssh_node(node: dict, command: str) -> str:
    """Run ``command`` on ``node`` (a cluster-file node) with the OpenSSH client; return stdout."""
    args = ["ssh", "-p", str(node["port"]), "-i", node["key_file"], "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
            f"{node['user']}@{node['hostname']}", command]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"ssh {node['name']} {command!r}: {result.stderr}"
    return result.stdout


def copy_repo(root, names) -> None:
    """Copy the repository's files and folders ``names`` into ``root`` (no __pycache__)."""
    for name in names:
        source, target = Path(REPO) / name, Path(root) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)


class Sshd:
    """A private OpenSSH server on 127.0.0.1 with its own host key and a client key for root.

    A test may kill or pause the sshd processes serving its connections (the children of this
    server's listener, never any other sshd) and start the server again on the same port.
    """

    def __init__(self, folder: Path, port: int | None = None):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.key_file = str(self.dir / "client_key")
        self.user = "root"
        self.proc: subprocess.Popen | None = None
        for key in ("host_key", "client_key"):
            if not (self.dir / key).exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                                str(self.dir / key)], check=True)
        (self.dir / "authorized_keys").write_text((self.dir / "client_key.pub").read_text())
        self.known_hosts = str(self.dir / "known_hosts")
        self.record_host_key()
        (self.dir / "sshd_config").write_text(f"""
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_key
AuthorizedKeysFile {self.dir}/authorized_keys
PidFile {self.dir}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
LogLevel ERROR
""")

    def info(self) -> dict:
        """What cluster files need: port, key_file, user, known_hosts (and the folder)."""
        return {"port": self.port, "key_file": self.key_file, "user": self.user, "dir": self.dir,
                "known_hosts": self.known_hosts}

    def record_host_key(self) -> None:
        """Write known_hosts with this server's host key (as a cluster's known_hosts file)."""
        kind, key = (self.dir / "host_key.pub").read_text().split()[:2]
        Path(self.known_hosts).write_text(f"[127.0.0.1]:{self.port} {kind} {key}\n")

    def new_host_key(self) -> None:
        """Give the server a new host key (as a rebuilt or impostor host has); start it again
        to serve it."""
        for name in ("host_key", "host_key.pub"):
            (self.dir / name).unlink()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(self.dir / "host_key")], check=True)

    def start(self) -> "Sshd":
        os.makedirs("/run/sshd", exist_ok=True)
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                     stderr=open(self.dir / "sshd.log", "a"))
        wait_for_port("127.0.0.1", self.port)
        return self

    def serving_pids(self) -> list[int]:
        """The sshd processes serving connections: the listener's sshd descendants."""
        return [pid for pid in descendants(self.proc.pid) if _comm(pid) == "sshd"]

    def signal_serving(self, sig: int) -> list[int]:
        pids = self.serving_pids()
        for pid in pids:
            os.kill(pid, sig)
        return pids

    def stop(self) -> None:
        """Kill the listener and everything it serves (continuing paused processes so they die)."""
        if self.proc is None:
            return
        pids = descendants(self.proc.pid)
        self.proc.kill()
        self.proc.wait(10)
        # and the children it forked meanwhile (they hold the listening socket until they exec)
        pids += [pid for pid in _sshds_of(self.dir / "sshd_config") if pid not in pids]
        for pid in pids:
            for sig in (signal.SIGKILL, signal.SIGCONT):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        self.proc = None


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid``, its live descendants and its
    reaped children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for i, p in enumerate([pid] + descendants(pid)):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[11:15]: utime stime cutime cstime (reaped children count only once: at the root)
        total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if i == 0 else 0)
    return total / tick


def _sshds_of(config: Path) -> list[int]:
    """sshd processes started with ``-f config`` (forked by its listener, not yet exec'd)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if entry.isdigit() and args[:1] == [b"/usr/sbin/sshd"] and str(config).encode() in args:
            found.append(int(entry))
    return found


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""

