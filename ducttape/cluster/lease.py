"""Node leases: a session holds the nodes it uses, so another session cannot take them.

A lease is one file in a folder of ducttape's on the node (``<scratch>/.ducttape/lease`` for a
node reached over SSH; for the localhost cluster, a file per loopback prefix in this machine's
temporary folder). It holds one line, ``<taken at> <holder as JSON>`` (the node's clock), and is
created only where none exists (the shell's ``set -C``, an exclusive create). Its modification
time is the heartbeat: the holder touches it every HEARTBEAT seconds. A lease whose heartbeat is
older than STALE_AFTER seconds belongs to a session that is gone: it is taken over, with a
warning. Nodes that share a lease file (same host, same scratch) share the lease.

A session that leaves a test's services running (``--no-teardown``) keeps the leases of their
nodes, marked as kept: a kept lease never goes stale, so no other session takes those nodes until
``cluster.clean`` ends what runs there and removes it (``remove_ours``).
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Callable

from ducttape.command_line import command
from ducttape.errors import ClusterError, DucttapeError
from ducttape.parallel import parallel_map
from ducttape.remote.account import RemoteAccount

LEASE_FOLDER = ".ducttape"
"""The folder under a node's scratch that holds its lease (ducttape's own)."""
HEARTBEAT = 15.0
"""Seconds between a holder's heartbeats."""
STALE_AFTER = 60.0
"""A lease with no heartbeat for this long is taken over."""
WAIT_POLL = 2.0
"""Seconds between attempts while waiting for leased nodes (``--wait-for-nodes``)."""
COMMAND_TIMEOUT = 30.0

q = shlex.quote


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: a session (its id once it has one), the driver's host, pid and user;
    ``token`` tells this holder's lease from any other."""

    session: str
    host: str
    pid: int
    user: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    kept: bool = False
    """The session has ended and left services running on the nodes (``--no-teardown``)."""

    def describe(self) -> str:
        if self.kept:
            return f"the services session {self.session} of {self.user} on {self.host} left running"
        return f"session {self.session} (pid {self.pid} of {self.user} on {self.host})"


def this_session(session: str = "(starting)") -> Holder:
    """The holder for a session of this process."""
    return Holder(session, socket.gethostname(), os.getpid(), getpass.getuser())


@dataclass(frozen=True)
class Place:
    """Where one lease lives: the account that reaches it, the file, and what it covers in
    words (``what``, e.g. "node worker1")."""

    account: RemoteAccount
    path: str
    what: str
    nodes: tuple[str, ...] = ()
    """The names of the nodes it covers (empty: every node of the cluster)."""


def node_places(nodes) -> list[Place]:
    """One place per lease file of ``nodes`` (``<scratch>/.ducttape/lease``; nodes on one host
    with one scratch share it)."""
    by_key: dict[tuple, tuple[RemoteAccount, str, list[str]]] = {}
    for node in nodes:
        account = node.account
        path = f"{node.scratch.rstrip('/')}/{LEASE_FOLDER}/lease"
        key = (getattr(account, "hostname", None), getattr(account, "port", None), path)
        by_key.setdefault(key, (account, path, []))[2].append(node.name)
    return [
        Place(account, path, f"node{'s' * (len(names) > 1)} {', '.join(names)}", tuple(names))
        for account, path, names in by_key.values()
    ]


@dataclass(frozen=True)
class Held:
    """A lease found held by someone else: its holder (None if unreadable), seconds since it
    was taken and since its last heartbeat."""

    holder: Holder | None
    held_for: float
    silent_for: float

    @property
    def stale(self) -> bool:
        kept = self.holder is not None and self.holder.kept
        return self.silent_for >= STALE_AFTER and not kept

    def describe(self) -> str:
        who = self.holder.describe() if self.holder else "an unknown session"
        if self.holder is not None and self.holder.kept:
            return f"{who} {duration(self.held_for)} ago (--no-teardown)"
        return f"{who} for {duration(self.held_for)}"


def duration(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``12s``."""
    s = int(max(0, seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def peek(place: Place) -> Held | None:
    """The lease at ``place`` if one is there (held, possibly stale); None if it is free."""
    out = place.account.run(f"f={q(place.path)}; {_LOOK}", allow_fail=True, timeout=COMMAND_TIMEOUT)
    return _held(out.stdout)


# Prints "held NOW BEAT" and the lease's line, or nothing when there is no lease file.
_LOOK = 'beat=$(stat -c %Y "$f" 2>/dev/null) || exit 0; echo "held $(date +%s) $beat"; cat "$f" 2>/dev/null; true'


def _held(text: str) -> Held | None:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("held "):
        return None
    _, now_text, beat_text = lines[0].split()
    now, beat = int(now_text), int(beat_text)
    taken, holder = beat, None
    if len(lines) > 1:
        first, _, rest = lines[1].partition(" ")
        try:
            taken = int(first)
            holder = Holder(**json.loads(rest))
        except (ValueError, TypeError):
            pass
    return Held(holder, now - taken, now - beat)


class Leases:
    """The leases of one session on its places: ``take`` them all (or none), keep them alive
    with one heartbeat thread, ``release`` them at the end (also after a failure or Ctrl-C)."""

    def __init__(self, places: list[Place], holder: Holder | None = None, out: Callable[[str], None] = print):
        self.places = places
        self.holder = holder or this_session()
        self.out = out
        self._taken: list[Place] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost: set[str] = set()

    def take(self, wait: float = 0.0) -> None:
        """Take every lease, waiting up to ``wait`` seconds for held ones; on failure release
        what was taken and raise ClusterError naming a holder and how long it has held it."""
        deadline = time.monotonic() + wait
        said_waiting = False
        try:
            for place in self.places:
                while True:
                    held = self._try(place)
                    if held is None:
                        self._taken.append(place)
                        break
                    if time.monotonic() >= deadline:
                        raise ClusterError(self._in_use(place, held, wait))
                    if not said_waiting:
                        self.out(f"waiting up to {wait:g}s for {place.what}: in use by {held.describe()}")
                        said_waiting = True
                    time.sleep(min(WAIT_POLL, max(0.0, deadline - time.monotonic())))
        except BaseException:
            self.release()
            raise
        self._thread = threading.Thread(target=self._beat, name="ducttape-lease-heartbeat", daemon=True)
        self._thread.start()

    def _try(self, place: Place) -> Held | None:
        """Take the lease at ``place``; None when taken (or already ours), else who holds it.
        A stale lease is taken over, with a warning."""
        line = q(json.dumps(asdict(self.holder), separators=(",", ":")))
        folder = q(place.path.rsplit("/", 1)[0])
        create = f'(set -C; printf "%s %s\\n" "$(date +%s)" {line} > "$f") 2>/dev/null && {{ echo taken; exit 0; }}; '
        script = f"f={q(place.path)}; mkdir -p {folder} || exit 3; {create}{_LOOK}"
        result = place.account.run(script, allow_fail=True, timeout=COMMAND_TIMEOUT)
        if result.exited == 3:
            raise ClusterError(
                f"cannot take the lease of {place.what}: cannot make {folder} on "
                f"it ({result.stderr.strip() or 'mkdir failed'})"
            )
        if result.stdout.startswith("taken"):
            return None
        held = _held(result.stdout)
        if held is None:  # released between our attempt and our look: try again
            return self._try(place)
        if held.holder is not None and held.holder.token == self.holder.token:
            return None  # a place of ours already (two nodes of one lease file)
        if not held.stale:
            return held
        self.out(
            f"warning: {place.what}: taking over the lease of {held.describe()}: no "
            f"heartbeat for {duration(held.silent_for)}"
        )
        same = f' && grep -qF {q(held.holder.token)} "$f"' if held.holder else ""
        place.account.run(
            f'f={q(place.path)}; beat=$(stat -c %Y "$f") && '
            f'[ $(( $(date +%s) - beat )) -ge {int(STALE_AFTER)} ]{same} && rm -f "$f"; true',
            allow_fail=True,
            timeout=COMMAND_TIMEOUT,
        )
        return self._try(place)

    def _in_use(self, place: Place, held: Held, wait: float) -> str:
        waited = f"still in use after waiting {wait:g}s" if wait else "in use"
        if held.holder is not None and held.holder.kept:
            return (
                f"{place.what} {waited} by {held.describe()} (lease {place.path}): "
                f"`{command()} cluster.clean` where that session ran ends them and frees the nodes"
            )
        hint = (
            "wait for it to end or pass a longer --wait-for-nodes SECONDS"
            if wait
            else "wait for it to end, or pass --wait-for-nodes SECONDS to wait for it"
        )
        return f"{place.what} {waited} by {held.describe()} (lease {place.path}): {hint}"

    def name_session(self, session: str) -> None:
        """Write the session's id into every lease taken (it is known once the results folder
        exists)."""
        old = self.holder
        self.holder = Holder(session, old.host, old.pid, old.user, old.token)
        for place in self._taken:
            self._rewrite(place)

    def _rewrite(self, place: Place) -> None:
        """Put ``self.holder`` into the lease at ``place`` if it is ours (same token), keeping
        when it was taken."""
        line = q(json.dumps(asdict(self.holder), separators=(",", ":")))
        place.account.run(
            f'f={q(place.path)}; grep -qF {q(self.holder.token)} "$f" && read taken rest < "$f" && '
            f'printf "%s %s\\n" "$taken" {line} > "$f.new" && mv -f "$f.new" "$f"; true',
            allow_fail=True,
            timeout=COMMAND_TIMEOUT,
        )

    def keep(self, nodes: set[str]) -> list[dict]:
        """Keep the leases that cover any of ``nodes`` past the session (``--no-teardown``):
        each is marked kept, which no other session takes over; ``release`` leaves them. Returns
        where they are, for ``remove_ours``: ``{"node": a node it covers (None: this machine's
        lease of a localhost cluster), "path": its file, "token": the holder's}``."""
        kept = [p for p in self._taken if not p.nodes or nodes & set(p.nodes)]
        self.holder = Holder(
            self.holder.session, self.holder.host, self.holder.pid, self.holder.user, self.holder.token, kept=True
        )
        for place in kept:
            self._rewrite(place)
        self._taken = [p for p in self._taken if p not in kept]
        return [{"node": p.nodes[0] if p.nodes else None, "path": p.path, "token": self.holder.token} for p in kept]

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            parallel_map(self._touch, list(self._taken))

    def _touch(self, place: Place) -> None:
        try:
            result = place.account.run(
                f'f={q(place.path)}; grep -qF {q(self.holder.token)} "$f" 2>/dev/null && touch "$f" && echo ok',
                allow_fail=True,
                timeout=COMMAND_TIMEOUT,
            )
        except DucttapeError:  # the node does not answer now: the next beat tries again
            return
        if result.stdout.strip() != "ok" and place.path not in self._lost:
            self._lost.add(place.path)
            self.out(
                f"warning: {place.what}: our lease is gone (taken over or removed); another session may use them now"
            )

    def release(self) -> None:
        """Stop the heartbeat and remove every lease still ours (nodes that do not answer keep
        theirs until it goes stale)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(COMMAND_TIMEOUT)
        taken, self._taken = self._taken, []

        def remove(place: Place) -> None:
            try:
                remove_ours(place.account, place.path, self.holder.token)
            except DucttapeError:
                pass

        parallel_map(remove, taken)


def remove_ours(account: RemoteAccount, path: str, token: str) -> None:
    """Remove the lease at ``path`` (reached through ``account``) if it is still the one with
    ``token``: at the end of a session, or a kept one (``cluster.clean``, once what ran there
    has ended)."""
    account.run(
        f'f={q(path)}; grep -qF {q(token)} "$f" 2>/dev/null && rm -f "$f"; true',
        allow_fail=True,
        timeout=COMMAND_TIMEOUT,
    )
