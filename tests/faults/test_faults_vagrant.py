"""Faults on docker workers, verified by their effect, and the fault scenarios on the same
cluster: one 7-worker cluster of its own (random names, a 198.19.x subnet) for the module.

Each fault is checked with probes run on the workers (probes.py): TCP across a partition fails
and within a side succeeds, and both work again after healing with none of our rules left; the
delay adds the asked-for round-trip time; loss(30) drops about that share of connection
attempts; pause and kill act on a real process. Then the scenarios kafka_partition,
zookeeper_partition and kafka_latency run through `invoke test --cluster vagrant`, and tests
that fail or hang mid-fault leave no rule, proxy or paused process behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ducttape.cluster import Cluster
from ducttape.errors import ConfigError
from ducttape.faults import Delay, FaultSet, History, net, proxy
from ducttape.services import Service
from probes import connect_failures, connects, http_round_trips, median
from test_faults_local import SCENARIO, advances, counter_service, stays
from vagrant_copy import make_copy, remove_copy

pytestmark = [pytest.mark.vagrant, pytest.mark.slow, pytest.mark.kafka]

REPO = Path(__file__).resolve().parents[2]
WORKERS = 7
BUILDS = ["kafka", "zookeeper"]
PROBE_PORT = 18474


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A repository copy with a 7-worker cluster up, Kafka, ZooKeeper and Toxiproxy built and
    pushed to the workers; destroyed afterwards."""
    copy = make_copy(tmp_path_factory.mktemp("faults") / "repo")
    try:
        build = subprocess.run([sys.executable, "-m", "invoke", "build", *[f"--only={p}" for p in BUILDS]],
                               cwd=REPO, capture_output=True, text=True, timeout=1800)
        assert build.returncode == 0, build.stdout + build.stderr
        if not Path(proxy.local_binary()).exists():
            ok(subprocess.run([sys.executable, "-m", "invoke", "faults.toxiproxy"], cwd=REPO,
                              capture_output=True, text=True, timeout=900))
        for project in [*BUILDS, "toxiproxy"]:
            shutil.copytree(REPO / "build" / project, copy.root / "build" / project, symlinks=True)
        shutil.copy2(REPO / "build" / "manifest.json", copy.root / "build" / "manifest.json")
        # One worker first: it creates the docker network with its subnet. Seven machines
        # brought up at once race to create it, and the losers' `docker network connect --ip`
        # then fails ("user specified IP address is supported only ... user configured subnets").
        copy.write_local(num_workers=1)
        ok(copy.invoke("cluster.image", timeout=900))
        ok(copy.invoke("cluster.up", timeout=900))
        copy.write_local(num_workers=WORKERS)
        ok(copy.invoke("cluster.up", timeout=900))  # pushes build/ to the workers too
        yield copy
    finally:
        remove_copy(copy)


@pytest.fixture(scope="module")
def workers(copy):
    from ducttape.cluster.json_file import JsonCluster
    from ducttape.vagrant.cluster_file import cluster_file

    cluster = JsonCluster(str(cluster_file(copy.root)))
    try:
        yield cluster
    finally:
        cluster.close()


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def no_rules_anywhere(cluster):
    return {n.name: net.our_rules(n) for n in cluster.nodes if net.our_rules(n)}


class ProbeTarget(Service):
    """An HTTP server to time round trips against: the Toxiproxy binary serving its own API on
    the node's address (any small HTTP server would do; this one is on hand)."""

    def start_node(self, node):
        binary = self.path(node, proxy.BINARY)
        node.account.copy_to(proxy.local_binary(), binary)
        self.spawn(node, f"sh -c 'chmod +x {binary} && exec {binary} -host {node.address} "
                         f"-port {PROBE_PORT}'")
        self.wait_for_http(node, PROBE_PORT, "/version")


def test_partition_cuts_across_and_heals(workers):
    a, b, c, d = workers.nodes[:4]
    faults = FaultSet(Cluster([a, b, c, d]))
    partition = faults.partition([[a, b], [c, d]])
    try:
        across = [connects(a, c), connects(d, b), connects(b, d)]
        within = [connects(a, b), connects(c, d), connects(d, c)]
        rules = net.our_rules(a)
        assert f":DUCTTAPE-{partition.id} - [0:0]" in rules
    finally:
        faults.heal(partition)
    assert across == [False, False, False] and within == [True, True, True]
    assert [connects(a, c), connects(d, b), connects(a, b)] == [True, True, True]
    assert no_rules_anywhere(workers) == {}
    # the driver's own commands reach a cut-off node all along: partitions spare the control link
    isolated = faults.isolate(a)
    try:
        assert a.account.ssh_output("hostname", timeout=30).strip() == a.name
        assert not connects(b, a) and connects(b, c)
    finally:
        faults.heal(isolated)
    [p, i] = faults.history.faults()
    assert (p.fault, i.fault) == ("partition", "isolate") and p.end and i.end


def test_loss_drops_about_that_share(workers):
    a, b = workers.nodes[:2]
    cluster = Cluster([a, b])
    target = ProbeTarget(cluster, 1)
    target.start()
    node, other = target.nodes[0], next(n for n in cluster.nodes if n is not target.nodes[0])
    url = f"http://{node.address}:{PROBE_PORT}/version"
    faults = FaultSet(cluster)
    probes = 200
    try:
        assert connect_failures(other, url, 20) == 0
        with_loss = faults.loss(node, 30)
        try:
            failed = connect_failures(other, url, probes)
        finally:
            faults.heal(with_loss)
        assert connect_failures(other, url, 20) == 0
    finally:
        target.stop()
    # a connection fails when the node drops its SYN-ACK: 30 % of them; 3 standard deviations
    # of 200 such draws is about 10 %
    assert 0.2 * probes <= failed <= 0.4 * probes, f"{failed} of {probes} probes failed"
    assert no_rules_anywhere(workers) == {}
    print(f"\nloss(30): {failed}/{probes} new connections failed")


def test_delay_adds_the_round_trip_time(workers):
    a, b, c = workers.nodes[:3]
    cluster = Cluster([a, b, c])
    target = ProbeTarget(cluster, 1)
    target.start()
    node = target.nodes[0]
    faults = FaultSet(cluster)
    url = f"http://{node.address}:{PROBE_PORT}/version"
    try:
        with pytest.raises(ConfigError, match=f"netem asked for, but the kernel of {node.name} has no "
                                              "netem qdisc"):
            faults.start(Delay(node, 100, method="netem"))
        with pytest.raises(ConfigError, match="without netem the delay goes through a proxy"):
            faults.start(Delay(node, 100))
        before = median(http_round_trips(b, url))
        delay = faults.delay(node, 100, ports=[PROBE_PORT])
        try:
            assert delay.used == "proxy"
            during = median(http_round_trips(b, url))
            assert node.account.pids(delay._proxy.pid_file)
        finally:
            faults.heal(delay)
        after = median(http_round_trips(b, url))
    finally:
        target.stop()
    added = during - before
    assert 80 <= added <= 120, f"round trip {before:.1f} ms before, {during:.1f} ms with 100 ms added"
    assert after < before + 20, f"{after:.1f} ms after healing"
    assert no_rules_anywhere(workers) == {}
    assert "toxiproxy" not in node.account.ssh_output("ps -eo comm=", timeout=30)
    print(f"\ndelay(100 ms): round trip {before:.2f} ms -> {during:.2f} ms -> {after:.2f} ms")


def test_bandwidth_is_a_tbf_qdisc_removed_on_heal(workers):
    a, b = workers.nodes[:2]
    faults = FaultSet(Cluster([a, b]))
    device = net.interface(a)
    slow = faults.bandwidth(a, "1mbit")
    try:
        assert "tbf" in net.qdisc(a, device) and "rate 1Mbit" in net.qdisc(a, device)
        with pytest.raises(ConfigError, match="already has a slow-link fault"):
            faults.bandwidth(a, "2mbit")
    finally:
        faults.heal(slow)
    assert "tbf" not in net.qdisc(a, device)


def test_pause_and_kill_on_a_worker(workers):
    cluster = Cluster(workers.nodes[:1])
    counter = counter_service(cluster)
    node = counter.nodes[0]
    faults = FaultSet(cluster)
    try:
        pause = faults.pause(counter, node)
        assert stays(counter)
        faults.heal(pause)
        assert advances(counter)
        pid = counter.pids(node)[0]
        faults.kill(counter, node, restart=False)
        assert not node.account.alive(pid) and counter.pids(node) == []
    finally:
        counter.stop()


def run_scenario(copy, *args, timeout=1800):
    results = copy.root / "results"
    started = time.monotonic()
    proc = copy.invoke("test", *args, "--cluster", "vagrant", "--results-dir", str(results),
                       timeout=timeout)
    elapsed = time.monotonic() - started
    session = (results / "latest").resolve()
    tests = json.loads((session / "report.json").read_text())["tests"]
    return proc, tests, session, elapsed


def test_failed_and_hung_tests_leave_no_fault_behind(copy, workers):
    proc, tests, session, _ = run_scenario(copy, f"{SCENARIO}::FailsMidFault", timeout=600)
    proc2, tests2, session2, _ = run_scenario(copy, f"{SCENARIO}::HangsMidFault", "--timeout", "60",
                                             timeout=600)
    assert proc.returncode == 1 and proc2.returncode == 1, proc.stdout + proc2.stdout
    assert "failing on purpose" in tests[0]["error"] and "timed out after 60s" in tests2[0]["error"]
    for test, where in ((tests[0], session), (tests2[0], session2)):
        history = History.load(str(where / test["folder"] / "history.jsonl"))
        kinds = sorted(f.fault for f in history.faults())
        assert kinds == ["delay", "partition", "pause"], history.records
    # the failed test's own teardown healed its faults and recorded their ends; the hung test's
    # process was killed, so the runner undid its faults from their reported undo commands
    assert all(f.end is not None for f in History.load(
        str(session / tests[0]["folder"] / "history.jsonl")).faults())
    undone = (session2 / "session_log.info").read_text()
    assert undone.count("undoing FaultSet-1 on ") >= 3, undone  # partition (2 sides), delay, pause
    assert no_rules_anywhere(workers) == {}
    for node in workers.nodes:
        assert "toxiproxy" not in node.account.ssh_output("ps -eo comm=", timeout=30)
        stopped = node.account.ssh_output("ps -eo stat=,comm= | awk '$1 ~ /^T/'", timeout=30)
        assert stopped.strip() == "", f"{node.name}: {stopped}"


@pytest.mark.parametrize("scenario", ["kafka_partition", "zookeeper_partition", "kafka_latency"])
def test_fault_scenario(copy, workers, scenario):
    proc, tests, session, elapsed = run_scenario(copy, scenario)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [test] = tests
    assert test["status"] == "PASS"
    folder = session / test["folder"]
    assert (folder / "history.png").stat().st_size > 10_000
    history = History.load(str(folder / "history.jsonl"))
    assert history.faults() and all(f.end for f in history.faults())
    assert no_rules_anywhere(workers) == {}
    data = test["data"]
    assert data["durability"]["lost"] == 0
    print(f"\n{scenario}: {elapsed:.0f} s\n{test.get('summary', '')}")
