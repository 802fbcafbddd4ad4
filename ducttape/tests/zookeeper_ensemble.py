"""ZooKeeper ensemble: 3 servers serve clients, keep serving while the leader is down (stopped
cleanly, or with kill -9), and the bounced one rejoins with the data written meanwhile."""

from __future__ import annotations

import time

from ducttape.products.zookeeper import ZookeeperService
from ducttape.remote.account import poll
from ducttape.runner import Test, cluster, matrix


class ZookeeperEnsembleTest(Test):
    @cluster(num_nodes=3)
    @matrix(clean_shutdown=[True, False])
    def test_bounce_one_server(self, clean_shutdown):
        zk = ZookeeperService(self.cluster, 3)
        started = time.monotonic()
        zk.start()
        start_s = time.monotonic() - started
        modes = {n.name: zk.mode(n) for n in zk.nodes}
        assert sorted(modes.values()) == ["follower", "follower", "leader"], modes
        zk.client("create", "/ducttape", "before")

        victim = zk.leader()
        others = [n for n in zk.nodes if n is not victim]
        zk.stop_node(victim, clean_shutdown=clean_shutdown)
        # the other two still form a quorum: they elect a leader and take writes
        poll(
            lambda: sorted(filter(None, (zk.mode(n) for n in others))) == ["follower", "leader"],
            60,
            lambda: f"no quorum of the other two within 60s: {[zk.mode(n) for n in others]}",
        )
        zk.client("create", "/ducttape/while-down", "written", server=others[0])

        started = time.monotonic()
        zk.start_node(victim)
        rejoin_s = time.monotonic() - started
        assert zk.mode(victim) in ("follower", "leader")
        value = zk.client("get", "/ducttape/while-down", server=victim)
        assert "written" in value.splitlines(), value
        modes_after = {n.name: zk.mode(n) for n in zk.nodes}
        zk.stop()
        return {
            "modes_before": modes,
            "modes_after": modes_after,
            "bounced": victim.name,
            "start_3_servers": {"value": round(start_s, 2), "unit": "s"},
            "rejoin": {"value": round(rejoin_s, 2), "unit": "s"},
        }


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
