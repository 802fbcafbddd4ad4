"""Provisioning of EC2 workers: the host key and the user data cloud-init runs at first boot,
and the checks and steps `cluster.up` runs over SSH afterwards (provisioned?, scratch again after
a start, rsync)."""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paramiko

from ducttape.build import sync
from ducttape.errors import ClusterError
from ducttape.remote.errors import RemoteCommandError
from ducttape.remote.host_keys import HostKeyError, KnownHosts, fingerprint, host_name
from ducttape.remote.ssh import SshAccount

MARKER = "/var/lib/ducttape/provisioned"
SETTINGS_FILE = "/etc/ducttape/settings"
HEREDOC_END = "DUCTTAPE_SETTINGS_END"
HOST_KEY_FILE = "/etc/ssh/ssh_host_ed25519_key"
HOST_KEY_END = "DUCTTAPE_HOST_KEY_END"
_PRIVATE_KEY = re.compile(r"-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n")
USER_DATA_LIMIT = 16384  # bytes EC2 takes, before base64
SCRATCH_SCRIPT = "/usr/local/sbin/ducttape-scratch"
SCRIPT = Path(__file__).with_name("user-data.sh")
RSYNC_TIMEOUT = 900
RETRY_SECONDS = 3


def new_host_key(folder: Path, comment: str) -> tuple[str, str]:
    """A fresh ed25519 host key for an instance: (its private key in OpenSSH's format, its public
    key as ``TYPE BASE64``). ssh-keygen writes it into a private folder under ``folder`` (0700,
    the key 0600), which is removed before this returns: the private key lives on only in the
    instance's user data."""
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="host-key-", dir=folder))
    try:
        key = work / "key"
        try:
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
                check=True,
                capture_output=True,
                timeout=30,
            )
        except FileNotFoundError:
            raise ClusterError("`ssh-keygen` is not installed here: run ./install.sh") from None
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise ClusterError(f"ssh-keygen could not make a host key ({type(err).__name__})") from None
        private = key.read_text()
        public = " ".join(key.with_suffix(".pub").read_text().split()[:2])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return private, public


def user_data(settings, host_key: str) -> str:
    """The shell script EC2 hands to cloud-init: the settings, the instance's private
    ``host_key`` (from ``new_host_key``), then ``user-data.sh``, which makes sshd serve that key
    before it does anything else.

    The settings go into SETTINGS_FILE through a quoted here-document (the shell expands
    nothing in it), each value shell-quoted; the script and the per-boot scratch script read
    them from there, so no value is ever part of a script's text. The host key goes through a
    quoted here-document too, into a file only root can read."""
    values = {
        "LOGIN_USER": settings.user,
        "SCRATCH": settings.scratch,
        "BUILD_DIR": settings.build_dir,
        "MARKER": MARKER,
        "HOST_KEY": HOST_KEY_FILE,
    }
    lines = [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    if any("\n" in value or "\r" in value for value in values.values()):
        raise ValueError("a user data setting holds a line break")
    if not _PRIVATE_KEY.fullmatch(host_key):
        raise ValueError("the host key is not an OpenSSH private key")
    text = (
        "#!/bin/bash\nset -euo pipefail\n"
        f"mkdir -p {shlex.quote(posixpath.dirname(SETTINGS_FILE))}\n"
        f"cat > {shlex.quote(SETTINGS_FILE)} <<'{HEREDOC_END}'\n"
        + "\n".join(lines)
        + f"\n{HEREDOC_END}\n. {shlex.quote(SETTINGS_FILE)}\n"
        + f"(umask 077 && cat > \"$HOST_KEY\" <<'{HOST_KEY_END}'\n{host_key}{HOST_KEY_END}\n)\n"
        + SCRIPT.read_text()
    )
    if len(text.encode()) > USER_DATA_LIMIT:
        raise ValueError(f"the user data has {len(text.encode())} bytes, more than EC2's {USER_DATA_LIMIT}")
    return text


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
    """Wait until ``node`` answers SSH with its recorded host key and its user data has
    finished; ClusterError after ``timeout`` seconds (naming the last reason), as soon as the
    user data reports a failure, or when ``stop`` is set (Ctrl-C).

    A host that shows another key is not logged in to, but waited for: an instance's sshd
    starts with keys of its own before cloud-init runs the user data that installs the
    recorded one. If it still shows another key at the end, the error names both."""
    deadline = time.monotonic() + timeout
    reason = "no answer yet"
    wrong_key = None
    while time.monotonic() < deadline and not stop.is_set():
        acct = account(node, known_hosts)
        wrong_key = None
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
        except HostKeyError as err:
            wrong_key = err
        except (ClusterError, RemoteCommandError, paramiko.SSHException, OSError, EOFError) as err:
            if "provisioning by user data" in str(err):
                raise
            reason = " ".join(str(err).split()) or type(err).__name__
        finally:
            acct.close()
        stop.wait(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
    if stop.is_set():
        raise ClusterError(f"{node['name']}: stopped waiting (interrupted)")
    if wrong_key is not None:
        raise _not_the_instance(node, wrong_key, known_hosts, timeout)
    raise ClusterError(
        f"{node['name']} at {node['hostname']}:{node['port']} not ready within "
        f"{timeout:.0f} s ({reason}); raise ssh_timeout in ec2.yaml or check "
        "ssh_from / ssh_route"
    )


def _not_the_instance(node: dict, err: HostKeyError, known_hosts: KnownHosts, timeout: float) -> ClusterError:
    """The one line for a host that kept showing another key than the one its user data installs."""
    recorded = [err.expected] if err.expected else []
    if not recorded and os.path.exists(known_hosts.path):  # the host showed a key of another type
        found = paramiko.HostKeys(known_hosts.path).lookup(host_name(node["hostname"], node["port"]))
        recorded = list(found.values()) if found else []
    expected = ", ".join(f"{key.get_name()} {fingerprint(key)}" for key in recorded) or "none recorded"
    return ClusterError(
        f"host key of node {node['name']} ({node['hostname']}:{node['port']}) is not the one its user data "
        f"installs ({expected}): the host still showed {err.shown.get_name()} {fingerprint(err.shown)} after "
        f"{timeout:.0f} s, and nothing was sent to it; either its user data did not run (see the instance's "
        "console output) or someone else answers at that address"
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
