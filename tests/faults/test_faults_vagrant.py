"""Faults on docker workers, verified by their effect, and the fault scenarios on the same
cluster: one 7-worker cluster of its own (random names, a 198.19.x subnet) for the module,
brought up with one `invoke cluster.up` from nothing.

Each fault is checked with probes run on the workers (probes.py): TCP across a partition fails
and within a side succeeds, and both work again after healing with none of our rules left; the
delay adds the asked-for round-trip time; loss(30) drops about that share of connection
attempts; bandwidth(8mbit) lets a stream through at about that rate; pause and kill act on a
real process. Tests that fail or hang mid-fault leave no rule, proxy or paused process behind.
Then the scenarios kafka_partition, zookeeper_partition and kafka_latency run through
`invoke test --cluster vagrant`, on timelines shorter than their defaults (`--param quiet=S
--param active=S`, TIMELINES), and each session's report.html is opened in headless Chromium:
the test's section names its faults and shows its plot, drawn at full size with the faults
shaded where they were. The Kafka and ZooKeeper scenarios without faults (kafka_bounce,
zookeeper_ensemble: a case of each kind) run on these workers too.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ducttape.cluster import Cluster
from ducttape.errors import ConfigError
from ducttape.faults import Delay, FaultSet, History, net, proxy
from ducttape.services import Service
from browser import Chromium
from plot_pixels import check_fault_shading
from probes import connect_failures, connects, http_round_trips, median, throughput
from test_faults_local import SCENARIO, advances, counter_service, stays
from vagrant_copy import docker, make_copy, remove_copy

pytestmark = [pytest.mark.vagrant, pytest.mark.slow, pytest.mark.kafka]

REPO = Path(__file__).resolve().parents[2]
WORKERS = 7
BUILDS = ["kafka", "zookeeper"]
PROBE_PORT = 18474
BYTE_PORT = 18475
SOURCE_BYTES = 5_000_000  # 5 s at 8 Mbit/s


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A repository copy with a 7-worker cluster up, Kafka, ZooKeeper and Toxiproxy built and
    pushed to the workers; destroyed afterwards."""
    copy = make_copy(tmp_path_factory.mktemp("faults") / "repo")
    try:
        debs = REPO / "vagrant" / "image" / "debs"
        if debs.is_dir():  # Debian packages this checkout's node image was made of: debootstrap
            # checks them against the mirror's index and fetches only what changed
            shutil.copytree(debs, copy.root / "vagrant" / "image" / "debs")
        build = subprocess.run([sys.executable, "-m", "invoke", "build", *[f"--only={p}" for p in BUILDS]],
                               cwd=REPO, capture_output=True, text=True, timeout=1800)
        assert build.returncode == 0, build.stdout + build.stderr
        if not Path(proxy.local_binary()).exists():
            ok(subprocess.run([sys.executable, "-m", "invoke", "faults.toxiproxy"], cwd=REPO,
                              capture_output=True, text=True, timeout=900))
        for project in [*BUILDS, "toxiproxy"]:
            shutil.copytree(REPO / "build" / project, copy.root / "build" / project, symlinks=True)
        shutil.copy2(REPO / "build" / "manifest.json", copy.root / "build" / "manifest.json")
        copy.write_local(num_workers=WORKERS)
        ok(copy.invoke("cluster.image", timeout=900))
        # all 7 at once, from nothing: cluster.up makes the docker network before `vagrant up`
        # (Vagrant making it while it brings machines up in parallel raced)
        started = time.monotonic()
        copy.up = copy.invoke("cluster.up", timeout=900)  # pushes build/ to the workers too
        copy.up_seconds = time.monotonic() - started
        ok(copy.up)
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


def test_seven_workers_come_up_at_once(copy, workers):
    """The fixture's one `invoke cluster.up` of 7 workers from nothing: all run, each on the
    cluster's network at its own address."""
    assert f"up: {WORKERS} workers on docker" in copy.up.stdout, copy.up.stdout
    assert f"up: {WORKERS} workers running" in copy.up.stdout, copy.up.stdout
    [network] = json.loads(docker("network", "inspect", copy.network))
    assert [c["Subnet"] for c in network["IPAM"]["Config"]] == [f"{copy.subnet}.0/24"]
    attached = sorted(c["IPv4Address"] for c in network["Containers"].values())
    assert attached == sorted(f"{copy.subnet}.{10 + i}/24" for i in range(1, WORKERS + 1))
    assert [n.account.ssh_output("hostname", timeout=30).strip() for n in workers.nodes] == \
        [f"worker{i}" for i in range(1, WORKERS + 1)]
    print(f"\ncluster.up of {WORKERS} workers from nothing: {copy.up_seconds:.0f} s")


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


class ByteSource(Service):
    """Sends SOURCE_BYTES zero bytes to every connection on BYTE_PORT (ByteSource.java, run as a
    single-file program by the node's JRE)."""

    def start_node(self, node):
        program = self.path(node, "ByteSource.java")
        node.account.copy_to(str(Path(__file__).with_name("ByteSource.java")), program)
        monitor = node.account.monitor_log(self.path(node, self.logs["output"]))
        self.spawn(node, f"java {program} {node.address} {BYTE_PORT} {SOURCE_BYTES}")
        self.wait_for_log(node, monitor, "^listening on", timeout=120)


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


def test_bandwidth_limits_throughput_to_the_rate(workers):
    """What a node with bandwidth(node, 8mbit) sends arrives at 85-105 % of the rate (TCP/IP
    and Ethernet headers take about 4 % of it), and many times faster before and after; the
    rate is a tbf root qdisc while it lasts, gone after healing."""
    a, b = workers.nodes[:2]
    cluster = Cluster([a, b])
    source = ByteSource(cluster, 1)
    source.start()
    node, other = source.nodes[0], next(n for n in cluster.nodes if n is not source.nodes[0])
    faults = FaultSet(cluster)
    device = net.interface(node)
    try:
        _, before = throughput(other, node, BYTE_PORT)
        slow = faults.bandwidth(node, "8mbit")
        try:
            assert "tbf" in net.qdisc(node, device) and "rate 8Mbit" in net.qdisc(node, device)
            with pytest.raises(ConfigError, match="already has a slow-link fault"):
                faults.bandwidth(node, "2mbit")
            received, during = throughput(other, node, BYTE_PORT)
        finally:
            faults.heal(slow)
        _, after = throughput(other, node, BYTE_PORT)
    finally:
        source.stop()
    rate = 8e6
    assert received == SOURCE_BYTES
    assert 0.85 * rate <= during <= 1.05 * rate, f"{during / 1e6:.2f} Mbit/s through an 8 Mbit/s link"
    assert before > 5 * rate and after > 5 * rate, f"{before / 1e6:.0f} and {after / 1e6:.0f} Mbit/s " \
                                                   "without the limit"
    assert "tbf" not in net.qdisc(node, device)
    print(f"\nbandwidth(8mbit): {before / 1e6:.0f} Mbit/s -> {during / 1e6:.2f} Mbit/s -> "
          f"{after / 1e6:.0f} Mbit/s")


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
    # one session, its tests at once, each on two workers of its own: the hung test's 60 s are
    # the session's (and fault_teardown's network fault on localhost is a plain one here)
    proc, tests, session, _ = run_scenario(copy, SCENARIO, "--timeout", "60", "--max-parallel", "3",
                                           timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    by_class = {t["test_id"].split("::")[1].split(".")[0]: t for t in tests}
    failed, hung = by_class["FailsMidFault"], by_class["HangsMidFault"]
    assert "failing on purpose" in failed["error"] and "timed out after 60s" in hung["error"]
    assert by_class["NetworkFaultOnLocalhost"]["status"] == "PASS", by_class["NetworkFaultOnLocalhost"]
    for test in (failed, hung):
        history = History.load(str(session / test["folder"] / "history.jsonl"))
        kinds = sorted(f.fault for f in history.faults())
        assert kinds == ["delay", "partition", "pause"], history.records
    # the failed test's own teardown healed its faults and recorded their ends; the hung test's
    # process was killed, so the runner undid its faults from their reported undo commands
    assert all(f.end is not None for f in History.load(
        str(session / failed["folder"] / "history.jsonl")).faults())
    undone = (session / "session_log.info").read_text()
    assert undone.count("undoing FaultSet-1 on ") >= 3, undone  # partition (2 sides), delay, pause
    assert no_rules_anywhere(workers) == {}
    for node in workers.nodes:
        assert "toxiproxy" not in node.account.ssh_output("ps -eo comm=", timeout=30)
        stopped = node.account.ssh_output("ps -eo stat=,comm= | awk '$1 ~ /^T/'", timeout=30)
        assert stopped.strip() == "", f"{node.name}: {stopped}"


def test_kafka_and_zookeeper_scenarios_on_the_workers(copy, workers):
    """The shipped scenarios without faults that need the Kafka or ZooKeeper build run here too
    (tests/kafka/test_kafka_scenarios.py runs all their cases on localhost): the two ZooKeeper
    cases at once (3 workers each), then the harder of the two Kafka bounces (kill -9, 5 workers;
    the clean one adds a minute and nothing that differs on workers)."""
    names, addresses = {n.name for n in workers.nodes}, {n.name: n.address for n in workers.nodes}
    started = time.monotonic()
    proc, tests, session, _ = run_scenario(copy, "zookeeper_ensemble", "--max-parallel", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(tests) == 2 and all(t["status"] == "PASS" for t in tests), tests
    assert not set(tests[0]["nodes"]) & set(tests[1]["nodes"])  # side by side, each on 3 of its own
    for test in tests:
        assert sorted(test["data"]["modes_after"].values()) == ["follower", "follower", "leader"], test
        first = test["nodes"][0]
        cfg = (session / test["folder"] / "ZookeeperService-1" / first / "zoo.cfg").read_text()
        assert f"clientPortAddress={addresses[first]}" in cfg, cfg
    proc, tests, session, _ = run_scenario(copy, "kafka_bounce::KafkaBounceTest.test_no_acked_record_lost"
                                                 "[clean_shutdown=False]")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [test] = tests
    assert test["status"] == "PASS" and len(test["nodes"]) == 5 and set(test["nodes"]) <= names, test
    assert test["data"]["lost"] == 0 and test["data"]["acked_after_bounce_began"] > 0, test["data"]
    print(f"\nzookeeper_ensemble and kafka_bounce on the workers: {time.monotonic() - started:.0f} s")


SCENARIOS = {"kafka_partition": "send", "zookeeper_partition": "write", "kafka_latency": "send"}
"""The fault scenarios and the operations their plot shows."""
TIMELINES = {"kafka_partition": (5, 15), "zookeeper_partition": (5, 30), "kafka_latency": (5, 10)}
"""The (quiet, active) seconds each scenario runs with here; their defaults are 15/20, 10/30 and
20/30 (about 100 s a scenario on this 2-core machine). Each is the shortest at which the
scenario's own verdict held with room to spare in trial runs on these 7 workers:
- quiet 5 s everywhere: 2500 records (Kafka) or 4-5 writes (ZooKeeper) of baseline; after the
  last fault nothing is judged but the reads, which wait for themselves.
- kafka_partition, 15 s: the controllers fence the cut-off leader after the broker session
  timeout (9 s), then the producer finds the new leader; acks resumed 8-10 s into the partition
  in 3 runs. Shorter and the records would just wait for the healing, so the leader's move is
  checked below.
- zookeeper_partition, 30 s (its default): the others elect a new leader 10 s into the leader's
  isolation, but each write first tries a server at random and loses 3 s when that is the
  cut-off one, several times in a row at times: the first write that counted came 10.7-21.4 s
  into it in 5 runs, and at 20 s one run of 3 failed.
- kafka_latency, 10 s: the proxy was in force after 1.3 s; the median went from 65-79 ms to
  579-610 ms (the verdict needs +80 ms)."""


@pytest.mark.chromium
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_fault_scenario(copy, workers, scenario, tmp_path):
    quiet, active = TIMELINES[scenario]
    proc, tests, session, elapsed = run_scenario(copy, scenario, "--param", f"quiet={quiet}",
                                                 "--param", f"active={active}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [test] = tests
    assert test["status"] == "PASS"
    folder = session / test["folder"]
    assert (folder / "history.png").stat().st_size > 10_000
    history = History.load(str(folder / "history.jsonl"))
    assert history.faults() and all(f.end and f.end - f.start >= active for f in history.faults())
    assert no_rules_anywhere(workers) == {}
    data = test["data"]
    assert data["durability"]["lost"] == 0
    assert data["timeline"] == {"quiet_s": quiet, "active_s": active}
    if scenario == "kafka_partition":  # the partition outlasted the session timeout
        assert data["leader_after"] not in (None, data["isolated"]), data
    shown = plot_in_report(session, test, history, SCENARIOS[scenario], tmp_path)
    print(f"\n{scenario}: {elapsed:.0f} s\n{test.get('summary', '')}\nin report.html: {shown}")


def plot_in_report(session, test, history, f, tmp_path):
    """The session's report.html in headless Chromium: the test's section names each fault and
    shows the test's history.png inline (the same bytes), loaded at its full size and drawn
    pixel for pixel, each fault shaded where and as long as it lasted (plot_pixels.py). The
    page and the drawn plot are saved as screenshots in ``tmp_path``."""
    with Chromium(str(tmp_path / "chromium-profile")) as browser:
        browser.open((session / "report.html").as_uri())
        sections = browser.evaluate("""[...document.querySelectorAll('details.test')].map(d => ({
            id: d.querySelector('summary .id').textContent, open: d.open, text: d.innerText,
            plots: [...d.querySelectorAll('img.plot')].map(i => ({
                alt: i.alt, src: i.src, complete: i.complete, width: i.naturalWidth,
                height: i.naturalHeight, box: {  // the image inside its border
                    x: i.getBoundingClientRect().x + i.clientLeft, y: i.getBoundingClientRect().y + i.clientTop,
                    width: i.clientWidth, height: i.clientHeight}}))}))""")
        [section] = sections
        assert section["id"] == test["test_id"] and section["open"], section["id"]
        [plot] = [p for p in section["plots"] if p["alt"] == f"{test['folder']}/history.png"]
        box = plot["box"]
        browser.screenshot(str(tmp_path / "report.png"))
        drawn = Image.open(browser.screenshot(str(tmp_path / "history-plot.png"), clip=box))
    assert plot["src"].startswith("data:image/png;base64,"), plot["src"][:80]
    inline = base64.b64decode(plot["src"].split(",", 1)[1], validate=True)
    assert inline == (session / test["folder"] / "history.png").read_bytes()
    image = Image.open(io.BytesIO(inline))
    assert plot["complete"] and (plot["width"], plot["height"]) == image.size and image.size[0] >= 800
    assert (box["width"], box["height"]) == image.size, f"drawn at {box}, not at its size {image.size}"
    differ = np.abs(np.asarray(drawn.convert("RGB"), dtype=int) - np.asarray(image.convert("RGB"), dtype=int))
    assert drawn.size == image.size and (differ.max(axis=2) > 8).mean() < 0.01, \
        "the plot Chromium drew is not the PNG"
    for fault in history.faults():
        assert fault.label in section["text"], f"{fault.label} not named in the report: {section['text']}"
    return check_fault_shading(drawn, history, f)
