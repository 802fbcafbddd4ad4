"""Bringing the build folder on the nodes of a cluster file up to date with the local one.

At session start, each node whose ``<build_dir>/manifest.json`` differs from the local build
manifest gets the local build folder with rsync over that node's own SSH settings (user, port,
key); rsync sends only the files that changed. The manifest goes last, so a sync that was cut
short leaves a manifest that still differs and the next session syncs again. Nodes that share a
host and a build_dir are synced once. Checkouts' ``.git/`` and Maven's ``target/`` folders stay
behind: nodes run a project's ``libs/`` through its launcher, not its history or build leftovers.
A node's build folder is synced into only when it is ducttape's (``claim``): new, empty, or
marked by an earlier sync.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ducttape.build import layout
from ducttape.cluster import Node
from ducttape.errors import ClusterError
from ducttape.parallel import parallel_map
from ducttape.remote.account import RemoteAccount
from ducttape.remote.ssh import SshAccount
from ducttape.remote.errors import RemoteCommandError
from ducttape.remote.host_keys import KnownHosts
from ducttape.stopping import kill_group

RSYNC_TIMEOUT_S = 1800
"""Longest one node's sync may take."""
IO_TIMEOUT_S = 60
"""rsync gives up when no data moves for this long."""
MARKER = ".ducttape-build"
"""The file that says a node's build folder is ducttape's: written by the first sync into an
empty (or new) folder; a folder with files and without it is never synced into (rsync's
``--delete`` would empty it)."""
EXCLUDES = (".lock", ".tmp-*", ".old-*", ".git/", "target/", layout.MANIFEST, MARKER)
NOT_OURS = 3
BWLIMIT_VARIABLE = "DUCTTAPE_RSYNC_BWLIMIT"
"""For tests only: KiB/s each rsync may send, read at each sync (a slow sync to interrupt)."""


@dataclass(frozen=True)
class Target:
    """One build folder on one host (several nodes of a cluster file may share it)."""

    hostname: str
    port: int
    user: str
    key_file: str | None
    build_dir: str
    known_hosts: KnownHosts


@dataclass
class Synced:
    """What one sync did: the nodes it served, files sent, bytes sent, seconds."""

    nodes: list[str]
    target: Target
    files: int
    bytes: int
    seconds: float


def sync_builds(nodes: Sequence[Node], root: Path | None = None, out: Callable[[str], None] = print) -> list[Synced]:
    """Sync the local build folder (or ``root``) to every node whose manifest differs from it,
    all nodes at once; return what was synced. Raises ClusterError naming the first node that
    could not be synced (nothing if there is no local build)."""
    root = root or layout.build_dir()
    manifest = layout.manifest_path(root)
    if not manifest.is_file():
        return []
    local = manifest.read_text()
    by_target: dict[Target, list[Node]] = {}
    for node in nodes:
        by_target.setdefault(_target(node), []).append(node)

    def stale(item: tuple[Target, list[Node]]) -> bool:
        """Whether the target's manifest differs (then its folder must be ducttape's)."""
        target, served = item
        first = served[0]
        path = f"{target.build_dir.rstrip('/')}/{layout.MANIFEST}"
        remote = first.account.ssh_output(f"cat {shlex.quote(path)} 2>/dev/null", allow_fail=True, timeout=60)
        if remote == local:
            return False
        claim(first.account, target.build_dir, _cannot(target, first.name), mark=False)
        return True

    def sync(item: tuple[Target, list[Node]]) -> Synced:
        target, served = item
        first = served[0]
        claim(first.account, target.build_dir, _cannot(target, first.name))
        t0 = time.monotonic()
        files, sent = _rsync(target, root, first.name)
        done = Synced([n.name for n in served], target, files, sent, time.monotonic() - t0)
        out(
            f"sync: {root} -> {', '.join(done.nodes)} ({target.user}@{target.hostname}:{target.build_dir}): "
            f"{files} files, {sent / 1e6:.1f} MB in {done.seconds:.1f}s"
        )
        return done

    # every folder is checked before any is written to: a refusal leaves all nodes as they were
    items = list(by_target.items())
    todo = [item for item, differs in zip(items, parallel_map(stale, items), strict=True) if differs]
    return parallel_map(sync, todo)


def claim(account: RemoteAccount, build_dir: str, where: str, mark: bool = True) -> None:
    """Make sure ``build_dir`` on the account's node is ducttape's before anything is synced
    into it: create it with MARKER when it is missing or empty (only check that it could be,
    unless ``mark``); raise ClusterError (``where`` first) and touch nothing when it holds files
    but no MARKER, or is not a folder."""
    folder = build_dir.rstrip("/") or "/"
    marker = posixpath.join(folder, MARKER)
    script = (
        f"d={shlex.quote(folder)}; m={shlex.quote(marker)}; "
        f'if [ -e "$d" ] || [ -L "$d" ]; then '
        f'  [ -f "$m" ] || [ -z "$(ls -A "$d" 2>/dev/null)" ] && [ -d "$d" ] || exit {NOT_OURS}; '
        + ('fi; mkdir -p "$d" || exit 1; [ -f "$m" ] || echo "ducttape build folder" > "$m"' if mark else "fi")
    )
    try:
        account.run(script, timeout=60)
    except RemoteCommandError as e:
        if e.exit_status == NOT_OURS:
            raise ClusterError(
                f"{where}: {build_dir} holds files but not {MARKER}, so it is not a "
                "build folder ducttape made, and syncing would delete them: set "
                "build_dir to a new or empty folder"
            ) from None
        raise ClusterError(f"{where}: mkdir: {e.stderr_tail(1) or e}") from None


def _target(node: Node) -> Target:
    account = node.account
    if not isinstance(account, SshAccount):
        raise ClusterError(f"{node.name} is not reached over SSH: rsync cannot sync a build folder to it")
    return Target(account.hostname, account.port, account.user, account.key_file, node.build_dir, account.known_hosts)


def _rsync(target: Target, root: Path, name: str) -> tuple[int, int]:
    """rsync the build folder, then its manifest; (files sent, bytes sent)."""
    ssh = [
        "ssh",
        "-p",
        str(target.port),
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=15",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=4",
        # the known_hosts file and policy of the nodes' own connections
        *target.known_hosts.ssh_options(),
        "-o",
        "LogLevel=ERROR",
    ]
    if target.key_file:
        ssh += ["-i", target.key_file, "-o", "IdentitiesOnly=yes"]
    dest = f"{target.user}@{target.hostname}:{target.build_dir.rstrip('/')}/"
    base = ["rsync", "--archive", "--delete", "--stats", f"--timeout={IO_TIMEOUT_S}", "-e", shlex.join(ssh)]
    if os.environ.get(BWLIMIT_VARIABLE):
        base.append(f"--bwlimit={int(os.environ[BWLIMIT_VARIABLE])}")
    tree = _run([*base, *(f"--exclude={e}" for e in EXCLUDES), f"{root}/", dest], target, name)
    _run([*base, str(layout.manifest_path(root)), dest], target, name)
    files = re.search(r"Number of regular files transferred: ([\d,]+)", tree)
    sent = re.search(r"Total transferred file size: ([\d,]+)", tree)
    return (int(files.group(1).replace(",", "")) if files else 0, int(sent.group(1).replace(",", "")) if sent else 0)


def _cannot(target: Target, name: str) -> str:
    return f"cannot sync the build folder to {name} ({target.user}@{target.hostname}:{target.build_dir})"


def _run(cmd: list[str], target: Target, name: str) -> str:
    where = _cannot(target, name)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise ClusterError(f"{where}: rsync is not installed here (apt-get install rsync)") from None
    try:
        stdout, stderr = proc.communicate(timeout=RSYNC_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        raise ClusterError(f"{where}: rsync did not finish within {RSYNC_TIMEOUT_S}s") from None
    except BaseException:  # Ctrl-C: stop rsync and its ssh too
        kill_group(proc.pid)
        proc.communicate()
        raise
    if proc.returncode != 0:
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        reason = next((ln for ln in lines if not ln.startswith("rsync error:")), lines[-1] if lines else "")
        if "Host key verification failed." in lines:  # after OpenSSH's banner of @ signs
            reason = (
                f"Host key verification failed: the host's key is not the one recorded in {target.known_hosts.path}"
            )
        raise ClusterError(f"{where}: rsync exited with code {proc.returncode}: {reason}")
    return stdout
