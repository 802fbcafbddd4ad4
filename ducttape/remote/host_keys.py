"""Host keys: which key each node must show, kept in a known_hosts file of its cluster's own.

One ``KnownHosts`` (a file and a policy) serves paramiko (``apply``) and OpenSSH, and so rsync
(``ssh_options``): both read the same file, in OpenSSH's format. Policies: ``strict`` (a host
must be in the file), ``accept-new`` (a host not in the file is recorded on first contact, then
it is strict), ``off`` (nothing checked). A host that shows another key than the one recorded is
refused under ``strict`` and ``accept-new`` alike.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
from dataclasses import dataclass

import paramiko

from ducttape.errors import ClusterError

POLICIES = ("strict", "accept-new", "off")
USER_KNOWN_HOSTS = "~/.ssh/known_hosts"


class HostKeyError(ClusterError):
    """A node refused for its host key: ``expected`` is the recorded key (None when the host
    is not in the file), ``shown`` the key the host showed."""

    def __init__(self, message: str, expected: paramiko.PKey | None, shown: paramiko.PKey):
        super().__init__(message)
        self.expected, self.shown = expected, shown


@dataclass(frozen=True)
class KnownHosts:
    """The known_hosts file ``path`` and the ``policy`` (one of POLICIES) a cluster checks its
    nodes' host keys with."""

    path: str = USER_KNOWN_HOSTS
    policy: str = "strict"

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"host key policy {self.policy!r} is not one of {', '.join(POLICIES)}")
        object.__setattr__(self, "path", os.path.abspath(os.path.expanduser(self.path)))

    def apply(self, client: paramiko.SSHClient, node: str) -> None:
        """Make ``client`` check host keys against this file (read now) and this policy; a
        host not in it is refused or recorded through ``missing_key_policy``."""
        client.get_host_keys().clear()
        # paramiko reads these and never writes them back
        known = client._system_host_keys  # type: ignore[attr-defined]  # private, not in the stubs
        known.clear()
        if self.policy != "off" and os.path.exists(self.path):
            known.load(self.path)
        client.set_missing_host_key_policy(_MissingKey(self, node))

    def ssh_options(self) -> list[str]:
        """OpenSSH ``-o`` options that check host keys the same way (for ``ssh``, ``rsync -e``)."""
        if self.policy == "off":
            return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        checking = "yes" if self.policy == "strict" else "accept-new"
        return [
            "-o",
            f"StrictHostKeyChecking={checking}",
            "-o",
            f"UserKnownHostsFile={self.path}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "CheckHostIP=no",
        ]

    def record(self, node: str, host: str, key: paramiko.PKey) -> None:
        """Add ``host``'s ``key`` to the file (made 0600 if new) unless it is there; under a
        lock, as other connections and sessions may record at the same moment. Raises the
        ``changed`` error when another key of ``host`` got there first."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            known = paramiko.HostKeys()
            for line in f.read().splitlines():
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
                if entry is not None:
                    known._entries.append(entry)  # type: ignore[attr-defined]  # private, not in the stubs
            recorded = known.lookup(host)
            if recorded:
                if recorded.get(key.get_name()) == key:
                    return
                raise self.changed(node, host, next(iter(recorded.values())), key)
            f.write(f"{host} {key.get_name()} {key.get_base64()}\n")

    def refused(self, node: str, host: str, key: paramiko.PKey) -> HostKeyError:
        """The one-line error for a host not in the file under ``strict``."""
        return HostKeyError(
            f"host key of node {node} ({host}) is not in {self.path} (host key policy strict; "
            f"it shows {key.get_name()} {fingerprint(key)}): record it there (e.g. ssh-keyscan), "
            f'or set "host_key_policy": "accept-new" in the cluster file',
            None,
            key,
        )

    def changed(self, node: str, host: str, expected: paramiko.PKey, got: paramiko.PKey) -> HostKeyError:
        """The one-line error for a host that shows another key than the recorded one."""
        return HostKeyError(
            f"host key of node {node} ({host}) changed: {self.path} has {expected.get_name()} "
            f"{fingerprint(expected)}, the host shows {got.get_name()} {fingerprint(got)}; if the "
            f"node was rebuilt, remove its line (ssh-keygen -R '{host}' -f {self.path})",
            expected,
            got,
        )


class _MissingKey(paramiko.MissingHostKeyPolicy):
    """A host not in the file: refused (strict), recorded (accept-new) or let through (off)."""

    def __init__(self, known: KnownHosts, node: str):
        self.known, self.node = known, node

    def missing_host_key(self, client, hostname, key):
        if self.known.policy == "strict":
            raise self.known.refused(self.node, hostname, key)
        if self.known.policy == "accept-new":
            self.known.record(self.node, hostname, key)


def host_name(hostname: str, port: int) -> str:
    """How known_hosts names a host: ``host`` on port 22, else ``[host]:port``."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of ``key``."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def replace_hosts(path: str, keys: dict[str, list[str]]) -> None:
    """Rewrite ``path`` so each host of ``keys`` (known_hosts names) has exactly the given
    ``TYPE BASE64`` keys; lines of other hosts stay. Used where keys come from a trusted
    channel (a worker just brought up)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    kept = []
    if os.path.exists(path):
        with open(path) as f:
            kept = [line for line in f.read().splitlines() if line.split(" ", 1)[0] not in keys]
    lines = kept + [f"{host} {key}" for host, found in keys.items() for key in found]
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"{line}\n" for line in lines))
    os.replace(tmp, path)
