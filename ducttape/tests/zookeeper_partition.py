"""ZooKeeper under network partitions: a minority (one follower) is isolated, then the leader;
the majority keeps serving writes, and after healing every acknowledged write is readable on
every server.

3 servers and a client node. The client writes one znode after another (``create``, each its
own ZooKeeperMain run with a timeout) against the whole ensemble while a nemesis isolates a
follower for ``active`` s and then, ``quiet`` s later, whichever server leads at that moment
for ``active`` s. Each write is in the test's ``history.jsonl`` (ok when ZooKeeperMain exited
0, unknown otherwise), and so are the reads: each server's list of the znodes after healing
(read again until it holds every acknowledged write, for up to 90 s: a server that was cut off
may answer from behind for a while, as ZooKeeper's sequentially consistent reads allow). The
data holds the checkers' findings per server and the timeline used.

Parameters: ``--param quiet=S``, seconds of writes before the first isolation, between the two
and after the second (default 10), and ``--param active=S``, seconds of each isolation (default
30). A write begun ``IN_FORCE_AFTER`` s or more into each isolation must succeed before it
heals. With the leader cut off, the others notice only after syncLimit × tickTime (10 s) and
then elect a new leader, and each write fails at random when it tries the isolated server
first, so below about 25 s of isolation that check fails now and then on a busy machine.

Needs nodes with a network of their own (``--cluster vagrant``).
"""

from __future__ import annotations

import threading
import time

from ducttape.cluster.node import Node
from ducttape.faults import INFO, OK, Isolate, checkers
from ducttape.errors import TimeoutError  # noqa: A004 - ducttape's own
from ducttape.remote import RemoteCommandError
from ducttape.remote.account import poll
from ducttape.runner import cluster
from ducttape.tests.test import FaultTest, ZookeeperTest

PARENT = "/ducttape-partition"
WRITE_TIMEOUT = 20.0
SESSION_TIMEOUT_MS = 6000
"""The client's session timeout: it gives up connecting to one server after a third of it and
tries the next, so a write does not wait 10 s (the default's third) on an isolated server."""
CATCH_UP_TIMEOUT = 90.0
"""Seconds a server may take after healing to answer reads with every acknowledged write."""
IN_FORCE_AFTER = 5.0
"""Seconds after a fault's recorded start by which its rules are in place on every node (they
take a command per node). A write begun later and acknowledged before the fault healed was
committed by the servers that still reach each other: the majority must take one such write in
each isolation (the old leader, cut off, cannot commit anything)."""


class ZookeeperPartitionTest(FaultTest, ZookeeperTest):
    quiet, active = 10.0, 30.0  # writes before, between and after the isolations; each isolation

    @cluster(num_nodes=4)
    def test_isolate_minority_then_leader(self) -> dict:
        zk = self.zk
        leader = zk.leader()
        assert leader is not None, "no server leads the ensemble after setUp"
        follower = next(n for n in zk.nodes if n is not leader)
        client = self.cluster.request(1)[0]  # the node that is neither isolated nor a server
        try:
            # the leader is looked up when its turn comes: the first fault may have moved it
            nemesis = self.nemesis([Isolate(follower), lambda: Isolate(zk.leader() or leader)])
            zk.client("create", PARENT, "", node=client)
            stop = threading.Event()
            writer = threading.Thread(target=self._write, args=(client, stop), daemon=True)
            writer.start()
            nemesis.start()
            try:
                nemesis.join(timeout=nemesis.duration + 120)
            finally:
                nemesis.stop()
                stop.set()
                writer.join(WRITE_TIMEOUT + 60)

            poll(
                lambda: all(zk.mode(n) for n in zk.nodes),
                120,
                lambda: f"not every server serves after healing: {[zk.mode(n) for n in zk.nodes]}",
            )
            # ZooKeeper's reads are sequentially consistent, not linearizable: a server that was
            # cut off may answer from behind for a while after it serves again. Read each until
            # it has every acknowledged write or CATCH_UP_TIMEOUT passes; keep its last answer.
            acked = {r["value"] for r in self.history.ops("write", OK)}
            for server in zk.nodes:
                seen: list[str] = []

                def caught_up(server: Node = server, seen: list[str] = seen) -> bool:
                    seen[:] = self._children(client, server)
                    return acked <= set(seen)

                try:
                    poll(caught_up, CATCH_UP_TIMEOUT, lambda: "")
                except TimeoutError:
                    pass  # the checker below names what it still lacks
                for name in seen:
                    self.history.op(f"read@{server.name}", name, OK, process="client")
        finally:
            self.cluster.free([client])

        found = self.verdict(
            "zookeeper_partition: isolate a follower, then the leader", write="write", read=f"read@{zk.nodes[0].name}"
        )
        per_server = {n.name: checkers.lost_and_duplicates(self.history, "write", f"read@{n.name}") for n in zk.nodes}
        for name, check in per_server.items():
            assert check["valid"], (
                f"{check['lost']} acknowledged writes not readable on {name}, e.g. {check['lost_examples']}"
            )
        for fault in self.history.faults():
            served = [
                r
                for r in self.history.ops("write", OK)
                if r["time"] - r["latency"] >= fault.start + IN_FORCE_AFTER and r["time"] <= (fault.end or time.time())
            ]
            assert served, (
                f"no write begun {IN_FORCE_AFTER:g}s or more into {fault.label} succeeded "
                "before it healed: the majority stopped serving"
            )
        return {"isolated": [f.label for f in self.history.faults()], "per_server": per_server, **found}

    def _write(self, client, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            name = f"k{n:05d}"
            started = time.time()
            try:  # ZooKeeperMain exits 0 only when the create succeeded
                self.zk.client(
                    "-timeout",
                    str(SESSION_TIMEOUT_MS),
                    "create",
                    f"{PARENT}/{name}",
                    str(n),
                    node=client,
                    timeout=WRITE_TIMEOUT,
                )
                outcome, error = OK, None
            except RemoteCommandError as exc:  # the create may or may not have happened
                outcome, error = INFO, str(exc)[-200:]
            self.history.op("write", name, outcome, process="client", latency=time.time() - started, error=error)

    def _children(self, client, server) -> list[str]:
        out = self.zk.client("ls", PARENT, node=client, server=server)
        line = next((ln for ln in out.splitlines() if ln.startswith("[")), "[]")
        return [c.strip() for c in line.strip("[]").split(",") if c.strip()]


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
