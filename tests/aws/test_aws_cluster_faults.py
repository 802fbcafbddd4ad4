"""`invoke cluster.up --aws` when things go wrong, against moto's EC2 server on 127.0.0.1: bad
settings stop it before anything is created, an EC2 error midway is cleaned up, Ctrl-C leaves a
state `cluster.destroy --aws` cleans, and `cluster.reap --aws` removes an expired cluster."""

import time

import pytest

from aws_helpers import FaultyEndpoint, free_port
from ec2_copy import NOTHING, leftovers

pytestmark = pytest.mark.aws


def one_line_error(proc):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return lines[0]


@pytest.mark.parametrize("case, settings, expected", [
    ("no AMI", {"ami_name": "debian-13-*"}, "no AMI named 'debian-13-*' owned by self"),
    ("unknown AMI", {"ami": "ami-0000000000000dead"}, "ami ami-0000000000000dead in ec2.yaml"),
    ("unknown region", {"region": "mars-north-1"}, "unknown AWS region 'mars-north-1'"),
    ("key file missing", {"key_file": "/nonexistent/id_ed25519"}, "key_file /nonexistent/id_ed25519 does not exist"),
    ("unknown key pair", {"key_pair": "nobody"}, "key_pair 'nobody' in ec2.yaml"),
    ("unknown instance type", {"instance_type": "m99.huge"}, "instance_type 'm99.huge'"),
    ("unknown instance type of a node type", {"node_types": {"broker": {"count": 1, "instance_type": "r99.huge"}}},
     "instance_type 'r99.huge'"),
    ("bad setting", {"num_wrokers": 3}, "unknown setting 'num_wrokers'"),
    ("bad route", {"ssh_route": "{nmae}:22"}, "ssh_route '{nmae}:22' is neither"),
])
def test_bad_settings_are_one_line_and_create_nothing(ec2_copy, case, settings, expected):
    ec2_copy.write_settings(**settings)
    line = one_line_error(ec2_copy.invoke("cluster.up", "--aws"))
    assert expected in line, line
    assert leftovers(ec2_copy.ec2) == NOTHING
    assert ec2_copy.state() is None


def test_key_file_not_matching_the_key_pair(ec2_copy, tmp_path):
    other = ec2_copy.ec2.create_key_pair(KeyName="someone-else")
    ec2_copy.write_settings(key_pair="someone-else")
    line = one_line_error(ec2_copy.invoke("cluster.up", "--aws"))
    assert f"key_file {ec2_copy.key_file} does not match key pair 'someone-else'" in line
    assert leftovers(ec2_copy.ec2) == NOTHING and other["KeyName"]


def test_instance_limit_midway_is_cleaned_up(ec2_copy):
    """EC2 refuses the second worker (vCPU limit): one line, exit 2, and what up had created
    (key pair, security group, worker1) is deleted by destroy's code; destroy then finds nothing."""
    ec2_copy.write_settings()
    message = "You have requested more vCPU capacity than your current vCPU limit of 2 allows"
    with FaultyEndpoint(ec2_copy.endpoint, "RunInstances", 2, "VcpuLimitExceeded", message) as ep:
        proc = ec2_copy.invoke("cluster.up", "--aws", endpoint=ep.url)
    line = one_line_error(proc)
    assert f"cannot launch worker2 in EC2 region us-east-1: VcpuLimitExceeded: {message}" in line
    out = proc.stdout
    assert "up: launching worker1" in out and "up: failed; deleting what it created" in out
    assert "destroy: terminating 1 instance(s)" in out
    assert "destroy: deleted security group sg-" in out and "destroy: deleted key pair" in out
    assert leftovers(ec2_copy.ec2) == NOTHING and ec2_copy.state() is None
    again = ec2_copy.invoke("cluster.destroy", "--aws")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def interrupted_up(copy, **settings):
    """`cluster.up --aws` towards an ssh port nobody answers, Ctrl-C'd once all 3 workers run."""
    copy.write_settings(ssh_route=f"127.0.0.1:{free_port()}", **settings)
    return copy.interrupted_up(lambda: len(leftovers(copy.ec2)["instances"]) == 3)


def test_ctrl_c_during_up_leaves_a_state_destroy_cleans(ec2_copy):
    proc = interrupted_up(ec2_copy)
    assert proc.returncode != 0
    left = leftovers(ec2_copy.ec2)
    assert len(left["instances"]) == 3 and len(left["security_groups"]) == 1
    assert len(left["key_pairs"]) == 1
    state = ec2_copy.state()
    assert sorted(state["instances"].values()) == sorted(left["instances"])

    destroyed = ec2_copy.invoke("cluster.destroy", "--aws")
    assert destroyed.returncode == 0, destroyed.stderr
    assert "instance-hours" in destroyed.stdout
    assert leftovers(ec2_copy.ec2) == NOTHING and ec2_copy.state() is None


def test_reap_terminates_an_expired_cluster_only(ec2_copy, moto_ec2):
    proc = interrupted_up(ec2_copy, expiry_hours=0.0003)  # expires about a second after launch
    assert proc.returncode != 0
    expired = leftovers(moto_ec2)
    fresh = moto_ec2.run_instances(ImageId=ec2_copy.image, MinCount=1, MaxCount=1, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [
            {"Key": "Project", "Value": "ducttape"}, {"Key": "DucttapeCluster", "Value": "other-1"},
            {"Key": "DucttapeExpires", "Value": "2999-01-01T00:00:00+00:00"}]}])["Instances"][0]["InstanceId"]
    time.sleep(1.5)  # let the interrupted cluster's expiry pass

    dry = ec2_copy.invoke("cluster.reap", "--aws")
    assert dry.returncode == 0, dry.stderr
    assert all(i in dry.stdout for i in expired["instances"]) and fresh not in dry.stdout
    assert "--yes" in dry.stdout and leftovers(moto_ec2)["instances"] == expired["instances"] + [fresh] or \
        sorted(leftovers(moto_ec2)["instances"]) == sorted(expired["instances"] + [fresh])

    reaped = ec2_copy.invoke("cluster.reap", "--aws", "--yes")
    assert reaped.returncode == 0, reaped.stderr
    assert leftovers(moto_ec2) == {**NOTHING, "instances": [fresh]}


def test_up_after_the_instances_vanished_starts_a_new_cluster(ec2_copy, moto_ec2):
    """Someone terminated the instances (e.g. a reap from another machine): `up` deletes the
    remains of the recorded cluster and launches a new one instead of failing on them."""
    interrupted_up(ec2_copy)
    old = ec2_copy.state()
    moto_ec2.terminate_instances(InstanceIds=list(old["instances"].values()))
    proc = interrupted_up(ec2_copy)
    assert f"the recorded cluster {old['cluster_id']} has no instance left" in proc.stdout
    assert f"destroy: deleted security group {old['security_group']}" in proc.stdout
    new = ec2_copy.state()
    assert new["cluster_id"] != old["cluster_id"] and len(leftovers(moto_ec2)["instances"]) == 3
    assert ec2_copy.invoke("cluster.destroy", "--aws").returncode == 0
    assert leftovers(moto_ec2) == NOTHING
