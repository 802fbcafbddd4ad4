"""A real 3-worker cluster on the docker provider, driven through `invoke cluster.*`.

Makes sure of the node image (the session's shared one, built here if no test before built it),
brings the cluster up, reaches every node over ssh from the cluster file with OpenSSH, runs
scenarios across the workers (the sample and native_vs_rest_performance), pushes a changed
build, halts, starts again and destroys; nothing may be left.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ssh_node as ssh

from ducttape.errors import ClusterError
from ducttape.vagrant.cluster_file import CLUSTER_FILE, load_vagrant_nodes
from ducttape.vagrant.image import RECIPE_LABEL, recipe_hash

pytestmark = [pytest.mark.vagrant, pytest.mark.slow]

WORKERS = ["worker1", "worker2", "worker3"]
REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "tests" / "scenarios"
KAFKA_BUILDS = ["kafka", "zookeeper", "strimzi-kafka-bridge"]


def ok(result):
    """Assert an `invoke` run succeeded; return its stdout."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def timed(copy, *args, timeout=600):
    started = time.monotonic()
    output = ok(copy.invoke(*args, timeout=timeout))
    return output, time.monotonic() - started


@pytest.mark.timeout(2400)  # image, cluster and two tests of the headline scenario across the workers
def test_cluster_lifecycle(vagrant_copy):
    copy = vagrant_copy
    copy.write_local(num_workers=3)
    timings = {}

    _, timings["image"] = timed(copy, "cluster.image")
    labels = json.loads(subprocess.check_output(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", copy.image],
        text=True, timeout=30))
    assert labels.get(RECIPE_LABEL) == recipe_hash(copy.root), labels

    output, timings["cold up"] = timed(copy, "cluster.up")
    assert "3 workers running" in output
    nodes = json.loads((copy.root / CLUSTER_FILE).read_text())["nodes"]
    assert [node["name"] for node in nodes] == WORKERS
    assert len({node["port"] for node in nodes}) == 3
    assert all(node["hostname"] == "127.0.0.1" for node in nodes)
    assert [node["address"] for node in nodes] == [f"{copy.subnet}.{11 + i}" for i in range(3)]

    # The cached cluster file answers without asking Vagrant (which takes seconds).
    started = time.monotonic()
    assert load_vagrant_nodes(copy.root) == nodes
    assert time.monotonic() - started < 1.0

    for node in nodes:
        assert ssh(node, "hostname").strip() == node["name"]
        ssh(node, f"touch {node['scratch']}/only-{node['name']}")
    for node in nodes:
        assert ssh(node, f"ls {node['scratch']}").split() == [f"only-{node['name']}"]
        others = [other for other in nodes if other is not node]
        for other in others:  # the address other nodes use, and the name, reach the other node
            ssh(node, f"timeout 5 bash -c '</dev/tcp/{other['address']}/22'")
            assert ssh(node, f"getent hosts {other['name']}").split()[0] == other["address"]

    # A scenario across the workers over SSH, through the runner's vagrant backend.
    results = copy.root / "results"
    output, timings["scenario"] = timed(copy, "test", "sample_services", "--cluster", "vagrant",
                                        "--results-dir", str(results))
    assert "on the vagrant cluster (3 workers)" in output.splitlines()[0]
    test = json.loads((results / "latest" / "report.json").read_text())["tests"][0]
    assert test["status"] == "PASS" and test["nodes"] == WORKERS
    assert test["data"]["hostnames"] == {name: name for name in WORKERS}
    too_big = copy.invoke("test", f"{SCENARIOS}/parallel_mix.py::Four",
                          "--cluster", "vagrant", "--results-dir", str(results))
    assert too_big.returncode == 2
    assert too_big.stderr.strip() == ("error: parallel_mix::Four.test_a needs 4 nodes but the vagrant "
                                      "cluster (3 workers) has 3; set num_workers = 4 in "
                                      "Vagrantfile.local and run `ducttape cluster.up`")

    # The headline scenario across the workers: broker, bridge and load generators each on a
    # worker of their own, from builds pushed with cluster.rsync.
    build = subprocess.run([sys.executable, "-m", "invoke", "build", *[f"--only={p}" for p in KAFKA_BUILDS]],
                           cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout + build.stderr
    for project in KAFKA_BUILDS:
        shutil.copytree(REPO / "build" / project, copy.root / "build" / project, symlinks=True)
    shutil.copy2(REPO / "build" / "manifest.json", copy.root / "build" / "manifest.json")
    timed(copy, "cluster.rsync")
    output, timings["native_vs_rest"] = timed(
        copy, "test", "native_vs_rest_performance", "--cluster", "vagrant", "--results-dir", str(results),
        "--exclude", "native_vs_rest_performance::NativeVsRestProducerPerformance.test_records_per_request",
        "--param", "seconds=1", "--param", "warmup=1", "--param", "loads=[0.5]",
        "--param", "budget=1", "--param", "min_repeats=2", timeout=1200)  # the figures, not their stability
    assert output.count("REST / native") == 2
    tests = json.loads((results / "latest" / "report.json").read_text())["tests"]  # produce and consume
    assert [t["status"] for t in tests] == ["PASS"] * 2 and all(t["nodes"] == WORKERS for t in tests)
    named = {t["test_id"].rsplit(".", 1)[1]: t for t in tests}
    for t in tests:
        assert t["data"]["bridge"]["project"] == "strimzi-kafka-bridge" and t["data"]["bridge"]["version"] == "0.33.1"
    for path in ("native", "rest"):
        assert named["test_produce"]["data"][path]["max"]["records_per_sec"]["value"] > 0
        assert len(named["test_produce"]["data"][path]["at_rate"]) == 1  # at half the native maximum
        assert named["test_consume"]["data"][path]["records_per_sec"]["value"] > 0
    assert (results / "latest" / named["test_produce"]["folder"] / "latency_vs_throughput.png").is_file()

    version = copy.root / "build" / "kafka" / "VERSION"
    version.parent.mkdir(parents=True, exist_ok=True)
    version.write_text("build 2\n")
    _, timings["rsync"] = timed(copy, "cluster.rsync")
    for node in nodes:
        assert ssh(node, f"cat {node['build_dir']}/kafka/VERSION") == "build 2\n"

    output, timings["halt"] = timed(copy, "cluster.halt")
    assert output.count("stopped") == 3
    with pytest.raises(ClusterError, match="0 workers running.*invoke cluster.up"):
        load_vagrant_nodes(copy.root)

    _, timings["up after halt"] = timed(copy, "cluster.up")
    nodes_again = load_vagrant_nodes(copy.root)
    assert nodes_again == nodes
    for node in nodes_again:  # a halted worker keeps its files
        assert ssh(node, f"ls {node['scratch']}").split() == [f"only-{node['name']}"]

    output, timings["destroy"] = timed(copy, "cluster.destroy")
    assert output.count("not_created") == 3
    assert copy.containers() == []
    assert copy.networks() == []
    with pytest.raises(ClusterError, match="0 workers running"):
        load_vagrant_nodes(copy.root)

    print("\ntimings: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
