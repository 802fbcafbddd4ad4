"""Provisioning of EC2 workers: the user data cloud-init runs at first boot, and the checks and
steps `cluster.up` runs over SSH afterwards (provisioned?, scratch again after a start, rsync)."""

from __future__ import annotations

import posixpath
import shlex
import subprocess
import threading
import time
from pathlib import Path

import paramiko

from ducttape.build import sync
from ducttape.errors import ClusterError
from ducttape.remote.errors import RemoteCommandError
from ducttape.remote.host_keys import KnownHosts
from ducttape.remote.ssh import SshAccount

MARKER = "/var/lib/ducttape/provisioned"
SETTINGS_FILE = "/etc/ducttape/settings"
HEREDOC_END = "DUCTTAPE_SETTINGS_END"
SCRATCH_SCRIPT = "/usr/local/sbin/ducttape-scratch"
SCRIPT = Path(__file__).with_name("user-data.sh")
RSYNC_TIMEOUT = 900
RETRY_SECONDS = 3


def user_data(settings) -> str:
    """The shell script EC2 hands to cloud-init: the settings, then ``user-data.sh``.

    The settings go into SETTINGS_FILE through a quoted here-document (the shell expands
    nothing in it), each value shell-quoted; the script and the per-boot scratch script read
    them from there, so no value is ever part of a script's text."""
    values = {
        "LOGIN_USER": settings.user,
        "SCRATCH": settings.scratch,
        "BUILD_DIR": settings.build_dir,
        "MARKER": MARKER,
    }
    lines = [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    if any("\n" in value or "\r" in value for value in values.values()):
        raise ValueError("a user data setting holds a line break")
    return (
        "#!/bin/bash\nset -euo pipefail\n"
        f"mkdir -p {shlex.quote(posixpath.dirname(SETTINGS_FILE))}\n"
        f"cat > {shlex.quote(SETTINGS_FILE)} <<'{HEREDOC_END}'\n"
        + "\n".join(lines)
        + f"\n{HEREDOC_END}\n. {shlex.quote(SETTINGS_FILE)}\n"
        + SCRIPT.read_text()
    )


def account(node: dict, known_hosts: KnownHosts) -> SshAccount:
    """An SSH account on a cluster-file node, its host key checked against ``known_hosts``."""
    return SshAccount(
        node["name"],
        node["hostname"],
        user=node["user"],
        port=node["port"],
        key_file=node["key_file"],
        address=node["address"],
        known_hosts=known_hosts,
    )


def wait_provisioned(node: dict, timeout: float, stop: threading.Event, known_hosts: KnownHosts) -> None:
    """Wait until ``node`` answers SSH and its user data has finished; ClusterError after
    ``timeout`` seconds (naming the last reason), as soon as the user data reports a failure,
    or when ``stop`` is set (Ctrl-C)."""
    deadline = time.monotonic() + timeout
    reason = "no answer yet"
    while time.monotonic() < deadline and not stop.is_set():
        acct = account(node, known_hosts)
        try:
            acct.connect()
            result = acct.run(f"cat {MARKER} 2>/dev/null || true", timeout=30)
            status = result.stdout.strip()
            if status == "ok":
                return
            if status.startswith("failed"):
                raise ClusterError(
                    f"{node['name']}: provisioning by user data {status}; see /var/log/cloud-init-output.log on it"
                )
            reason = "answers SSH, user data still running"
        except (ClusterError, RemoteCommandError, paramiko.SSHException, OSError, EOFError) as err:
            if "provisioning by user data" in str(err):
                raise
            reason = " ".join(str(err).split()) or type(err).__name__
        finally:
            acct.close()
        stop.wait(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
    if stop.is_set():
        raise ClusterError(f"{node['name']}: stopped waiting (interrupted)")
    raise ClusterError(
        f"{node['name']} at {node['hostname']}:{node['port']} not ready within "
        f"{timeout:.0f} s ({reason}); raise ssh_timeout in ec2.yaml or check "
        "ssh_from / ssh_route"
    )


def prepare_scratch(node: dict, known_hosts: KnownHosts) -> None:
    """Make the scratch folder again (an instance-store /mnt is empty after a stop/start)."""
    acct = account(node, known_hosts)
    try:
        acct.run(f"sudo -n {SCRATCH_SCRIPT}", timeout=60)
    except RemoteCommandError as err:
        raise ClusterError(f"{node['name']}: cannot prepare {SCRATCH_SCRIPT}: {err.stderr_tail(1) or err}") from None
    finally:
        acct.close()


def rsync_build(node: dict, source: Path, build_dir: str, known_hosts: KnownHosts) -> None:
    """Push the local build folder ``source`` to ``build_dir`` on ``node`` with rsync over ssh
    (host key checked against ``known_hosts``), once ``build_dir`` is known to be ducttape's
    (``sync.claim``)."""
    acct = account(node, known_hosts)
    try:
        sync.claim(acct, build_dir, f"cannot rsync build/ to {node['name']}")
    finally:
        acct.close()
    ssh = [
        "ssh",
        "-p",
        str(node["port"]),
        "-i",
        node["key_file"],
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        *known_hosts.ssh_options(),
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=15",
        "-o",
        "ServerAliveInterval=15",
    ]
    command = [
        "rsync",
        "--archive",
        "--delete",
        "--copy-links",
        f"--exclude=/{sync.MARKER}",
        "-e",
        shlex.join(ssh),
        f"{source}/",
        f"{node['user']}@{node['hostname']}:{build_dir}/",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RSYNC_TIMEOUT)
    except FileNotFoundError:
        raise ClusterError("`rsync` is not installed here: run ./install.sh") from None
    except subprocess.TimeoutExpired:
        raise ClusterError(f"rsync of build/ to {node['name']} took more than {RSYNC_TIMEOUT} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ClusterError(f"rsync of build/ to {node['name']} failed (exit {result.returncode}): {last}")
