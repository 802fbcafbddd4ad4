"""The whole EC2 lifecycle through `invoke cluster.* --aws`, boto3 against moto's EC2 server, with
Debian 12 containers as the instances' hosts (ec2_hosts.Booter runs each instance's user data on
a bare container): up 3 (every host key known before the first contact) -> the sample scenario
over SSH -> status -> halt -> up -> destroy -> nothing of ours left."""

import subprocess
import time

import pytest

from ec2_copy import NOTHING, leftovers
from support import ssh_node

pytestmark = [pytest.mark.aws, pytest.mark.slow]


def ssh(node, command):
    return ssh_node(node, command).strip()


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def instance_states(ec2, ids):
    return {i["InstanceId"]: i["State"]["Name"] for r in
            ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]}


def test_up_scenario_status_halt_up_destroy(ec2_copy, ec2_hosts, monkeypatch):
    copy, ec2 = ec2_copy, ec2_copy.ec2
    copy.write_settings(ssh_route=f"{ec2_hosts.subnet}.1{{index}}", ssh_timeout=600)
    timings = {}

    started = time.monotonic()
    out = ok(copy.invoke("cluster.up", "--aws"))
    timings["up (launch + user data + rsync)"] = time.monotonic() - started
    assert "3 workers running" in out, out
    state = copy.state()
    ids = list(state["instances"].values())
    assert len(ids) == 3 and set(instance_states(ec2, ids).values()) == {"running"}
    instances = {i["InstanceId"]: i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                 for i in r["Instances"]}
    for instance in instances.values():
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert tags["Project"] == "ducttape" and tags["DucttapeCluster"] == state["cluster_id"]
        assert tags["DucttapeExpires"] == state["expires"]
        assert instance["ImageId"] == copy.image and instance["KeyName"] == state["key_pair"]
        groups = [g["GroupId"] for g in instance["NetworkInterfaces"][0]["Groups"]]
        assert groups == [state["security_group"]]
    group = ec2.describe_security_groups(GroupIds=[state["security_group"]])["SecurityGroups"][0]
    rules = {(p["IpProtocol"], p.get("FromPort")): p for p in group["IpPermissions"]}
    assert rules["-1", None]["UserIdGroupPairs"][0]["GroupId"] == group["GroupId"]
    assert rules["tcp", 22]["IpRanges"][0]["CidrIp"] == "198.51.100.7/32"

    nodes = copy.nodes()
    assert [n["name"] for n in nodes] == ["worker1", "worker2", "worker3"]
    assert_host_keys_known_before_contact(copy, ec2_hosts, nodes, out)
    by_name = {{t["Key"]: t["Value"] for t in i["Tags"]}["Name"].rpartition("-")[2]: i
               for i in instances.values()}
    for i, node in enumerate(nodes, 1):
        assert node["hostname"] == f"{ec2_hosts.subnet}.1{i}" and node["user"] == "admin"
        assert node["address"] == by_name[node["name"]]["PrivateIpAddress"]  # services bind here
        assert ssh(node, "hostname") == node["name"]
        assert ssh(node, "cat /var/lib/ducttape/provisioned") == "ok"
        assert ssh(node, "java -version 2>&1 | head -1").startswith("openjdk version \"17")
        assert ssh(node, "cat /opt/ducttape/build/kafka/marker.txt") == "rsynced"
        assert ssh(node, "stat -c %U /mnt /opt/ducttape/build").split() == ["admin", "admin"]

    monkeypatch.setenv("DUCTTAPE_EC2_ENDPOINT", copy.endpoint)
    started = time.monotonic()
    run = copy.invoke("test", "sample_services", "--cluster", "aws", timeout=600)
    timings["sample scenario on --cluster aws"] = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS" in run.stdout

    (copy.root / "build" / "kafka" / "marker.txt").write_text("rsynced by cluster.rsync\n")
    started = time.monotonic()
    ok(copy.invoke("cluster.rsync", "--aws"))
    timings["rsync"] = time.monotonic() - started
    assert {ssh(node, "cat /opt/ducttape/build/kafka/marker.txt") for node in nodes} == {
        "rsynced by cluster.rsync"}

    status = ok(copy.invoke("cluster.status", "--aws"))
    assert all(i in status for i in ids) and "3 worker(s) running" in status

    started = time.monotonic()
    out = ok(copy.invoke("cluster.halt", "--aws"))
    timings["halt"] = time.monotonic() - started
    assert set(instance_states(ec2, ids).values()) == {"stopped"}
    assert copy.nodes() == []
    wait_for(lambda: not any(running for _, running in ec2_hosts.containers.values()))

    (copy.root / "build" / "kafka" / "marker.txt").write_text("rsynced again\n")
    started = time.monotonic()
    out = ok(copy.invoke("cluster.up", "--aws"))
    timings["up again (start + scratch + rsync)"] = time.monotonic() - started
    assert "starting 3 stopped instance(s)" in out and "launching" not in out
    assert copy.state()["instances"] == state["instances"]
    for node in copy.nodes():
        assert ssh(node, "stat -c %U /mnt") == "admin"  # the wiped scratch disk, made again
        assert ssh(node, "cat /opt/ducttape/build/kafka/marker.txt") == "rsynced again"

    started = time.monotonic()
    out = ok(copy.invoke("cluster.destroy", "--aws"))
    timings["destroy"] = time.monotonic() - started
    assert "instance-hours" in out and f"deleted security group {state['security_group']}" in out
    assert f"deleted key pair {state['key_pair']}" in out
    assert set(instance_states(ec2, ids).values()) == {"terminated"}
    assert leftovers(ec2) == NOTHING and copy.state() is None
    assert not (copy.root / ".ec2" / "known_hosts").exists()
    wait_for(lambda: not ec2_hosts.containers)
    assert not ec2_hosts.errors, ec2_hosts.errors
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def assert_host_keys_known_before_contact(copy, hosts, nodes, output):
    """Each worker's key was in .ec2/known_hosts before its sshd ran (so before any contact),
    is the one `up` recorded at the launch and the only one its sshd serves, and is not the key
    sshd started with: the user data replaced that. No private key was printed or kept."""
    known = dict(line.split(" ", 1) for line in (copy.root / ".ec2" / "known_hosts").read_text().splitlines())
    recorded = copy.state()["host_keys"]
    assert len(set(recorded.values())) == len(nodes)
    for node in nodes:
        key = recorded[node["name"]]
        assert hosts.known_at_boot[node["name"]] == key and known[node["hostname"]] == key
        scan = subprocess.run(["ssh-keyscan", "-T", "10", node["hostname"]], capture_output=True, text=True,
                              timeout=60)
        served = [line for line in scan.stdout.splitlines() if not line.startswith("#")]
        assert served == [f"{node['hostname']} {key}"], scan.stdout + scan.stderr
        assert hosts.boot_keys[node["name"]] != key
    assert "PRIVATE KEY" not in output
    assert not any("PRIVATE KEY" in path.read_text() for path in (copy.root / ".ec2").rglob("*") if path.is_file())


def wait_for(check, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the stand-in hosts did not follow EC2 within 60 s"
        time.sleep(0.2)
