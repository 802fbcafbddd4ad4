"""What the benchmarks run against, set up and torn down by ``run.py``.

- ducktape from PyPI in its own virtualenv (``benchmarks/.venv-ducktape``, made once, kept);
  kafkatest_vs_ducktape.py's ducktape 0.12 with kafkatest's requirements in ``.venv-ducktape012``;
- a login user with ``/bin/sh`` as its shell and no start-up files, so an SSH command costs
  what the framework costs and not what root's ``.bashrc`` costs;
- a private OpenSSH server on 127.0.0.1 (ephemeral port, own host and client keys) that only
  lets that user in, running under ``reaper.py`` so killed background processes are reaped;
- cluster files describing 3 nodes on that server, in ducttape's and in ducktape's format.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-ducktape")
DUCKTAPE_VERSION = "0.17.0"
USER = "ducttape-bench"
NUM_NODES = 3


def run(cmd: list[str], timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd``, raising with its stderr if it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc


def ducktape_python(venv: str = VENV, requirements: tuple[str, ...] = (f"ducktape=={DUCKTAPE_VERSION}",)) -> str:
    """The python of virtualenv ``venv`` with the pip ``requirements`` installed (the venv is
    made, or remade when it was made with other requirements); the first names ducktape's pin."""
    python = os.path.join(venv, "bin", "python")
    version = requirements[0].partition("==")[2]
    marker = os.path.join(venv, "ducttape-requirements.txt")  # what the venv was made with
    wanted = "\n".join(requirements) + "\n"
    probe = [python, "-c", "import importlib.metadata as m; print(m.version('ducktape'))"]
    if os.path.exists(python):
        got = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        same = len(requirements) == 1 or (os.path.exists(marker) and open(marker).read() == wanted)
        if got.returncode == 0 and got.stdout.strip() == version and same:
            return python
    print(f"[setup] virtualenv {os.path.relpath(venv)} with {' '.join(requirements)} from PyPI",
          flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    pip = [python, "-m", "pip"]
    try:
        run([sys.executable, "-m", "venv", venv], timeout=300)
    except RuntimeError:  # no ensurepip (Debian without python3-venv): our pip fills the venv
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", "--without-pip", venv], timeout=300)
        pip = [sys.executable, "-m", "pip", "--python", python]
    run([*pip, "install", "-q", "--disable-pip-version-check", *requirements], timeout=1800)
    with open(marker, "w") as f:
        f.write(wanted)
    return python


class BenchUser:
    """The login user the benchmarks SSH in as: shell /bin/sh, home in the run's work folder.

    Created if missing and removed again on exit (only if this run created it).
    """

    def __init__(self, home: str):
        self.name = USER
        self.home = home
        self.created = False

    def __enter__(self) -> "BenchUser":
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            run(["useradd", "--system", "--no-create-home", "--home-dir", self.home,
                 "--shell", "/bin/sh", self.name])
            self.created = True
        # '*' instead of useradd's '!': no password login, but not a "locked" account to sshd.
        run(["usermod", "--home", self.home, "--shell", "/bin/sh", "--password", "*", self.name])
        os.makedirs(self.home, exist_ok=True)
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        os.chown(self.home, self.uid, self.gid)
        return self

    def chown_tree(self, path: str) -> None:
        for root, dirs, files in os.walk(path):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, self.uid, self.gid)

    def __exit__(self, *exc) -> None:
        if not self.created:
            return
        # zombies (this machine's PID 1 reaps orphans late, if ever) do not count as running
        states = subprocess.run(["ps", "-o", "pid=,stat=", "-u", self.name], capture_output=True,
                                text=True, timeout=30).stdout.split("\n")
        left = [line.split()[0] for line in states if line.strip() and not line.split()[1].startswith("Z")]
        if left:
            print(f"[setup] warning: processes of {self.name} still run ({left}); user kept",
                  file=sys.stderr)
            return
        subprocess.run(["userdel", self.name], capture_output=True, timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """A private OpenSSH server on 127.0.0.1 that admits only the bench user, by key."""

    def __init__(self, workdir: str, user: BenchUser):
        self.dir = os.path.join(workdir, "sshd")
        self.user = user
        self.key_file = os.path.join(self.dir, "client_key")
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Sshd":
        os.makedirs(self.dir, exist_ok=True)
        for key in ("host_key", "client_key"):
            path = os.path.join(self.dir, key)
            if not os.path.exists(path):
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path])
        with open(self.key_file + ".pub") as f, \
                open(os.path.join(self.dir, "authorized_keys"), "w") as out:
            out.write(f.read())
        os.makedirs("/run/sshd", exist_ok=True)
        for _attempt in range(5):  # the port may be taken between choosing and binding it
            self.port = free_port()
            config = os.path.join(self.dir, "sshd_config")
            with open(config, "w") as f:
                f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_key
AuthorizedKeysFile {self.dir}/authorized_keys
PidFile none
AllowUsers {self.user.name}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitUserRC no
PrintMotd no
PrintLastLog no
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
LogLevel ERROR
""")
            log = open(os.path.join(self.dir, "sshd.log"), "w")
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "reaper.py"), "/usr/sbin/sshd", "-D", "-e",
                 "-f", config], stderr=log, stdout=log)
            if self._wait_ready(20):
                return self
            self._stop()
        raise RuntimeError(f"sshd did not start; see {self.dir}/sshd.log")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(64).startswith(b"SSH-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)

    def __exit__(self, *exc) -> None:
        self._stop()

    def ssh_options(self) -> list[str]:
        """OpenSSH client options for this server, ignoring the caller's own ssh config."""
        return ["-F", "/dev/null", "-i", self.key_file, "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR"]

    def write_known_hosts(self, folder: str) -> str:
        """A known_hosts file with this server's host key; its path."""
        with open(os.path.join(self.dir, "host_key.pub")) as f:
            kind, key = f.read().split()[:2]
        path = os.path.join(folder, "known_hosts")
        with open(path, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {kind} {key}\n")
        return path

    def write_cluster_files(self, folder: str) -> tuple[str, str]:
        """Write the 3-node cluster in ducttape's and ducktape's format; return both paths."""
        ducttape = {"nodes": [
            {"name": f"worker{i}", "hostname": "127.0.0.1", "port": self.port, "user": self.user.name,
             "key_file": self.key_file, "address": "127.0.0.1",
             "scratch": os.path.join(self.user.home, "scratch", f"worker{i}")}
            for i in range(1, NUM_NODES + 1)],
            "known_hosts": self.write_known_hosts(folder)}  # ducttape verifies host keys
        ducktape = {"nodes": [
            {"externally_routable_ip": "127.0.0.1",
             "ssh_config": {"host": f"worker{i}", "hostname": "127.0.0.1", "port": self.port,
                            "user": self.user.name, "identityfile": self.key_file, "password": None}}
            for i in range(1, NUM_NODES + 1)]}
        paths = os.path.join(folder, "cluster-ducttape.json"), os.path.join(folder, "cluster-ducktape.json")
        for path, data in zip(paths, (ducttape, ducktape), strict=True):
            with open(path, "w") as f:
                json.dump(data, f, indent=1)
        return paths
