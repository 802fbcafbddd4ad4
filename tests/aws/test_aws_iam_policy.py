"""The minimal IAM policy of docs/aws.md (ducttape/aws/iam-policy.json) is enough for every
`cluster.* --aws` task, checked with moto's IAM enforcement: each EC2 call is allowed or denied
by the policies of the caller, an IAM user made for the test."""

import json
import re
import urllib.request
from pathlib import Path

import boto3
import pytest

from aws_helpers import DIRECT, free_port
from ec2_copy import NOTHING, leftovers

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]
POLICY = json.loads((REPO / "ducttape/aws/iam-policy.json").read_text())


def iam_user(moto_url, policy, name):
    """An IAM user in moto holding ``policy``; returns its credentials as environment variables."""
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_url)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="ducttape", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def running(ec2):
    pages = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    return sum(len(r["Instances"]) for r in pages["Reservations"])


def enforce_iam(moto_url, on):
    """Make moto check every request against IAM from now on (or stop doing so)."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset-auth", method="POST",
                                     data=b"0" if on else b"inf",
                                     headers={"Content-Type": "text/plain"})
    with DIRECT.open(request, timeout=10):
        pass


@pytest.fixture
def enforced(moto_url):
    yield lambda: enforce_iam(moto_url, True)
    enforce_iam(moto_url, False)


def test_docs_show_the_policy_file():
    block = re.search(r"## Minimal IAM policy.*?```json\n(.*?)```", (REPO / "docs/aws.md").read_text(), re.S)
    assert json.loads(block.group(1)) == POLICY


def test_every_task_runs_with_the_minimal_policy(ec2_copy, moto_url, enforced):
    copy, ec2 = ec2_copy, ec2_copy.ec2
    user = iam_user(moto_url, POLICY, "ducttape-minimal")
    copy.write_settings(ssh_route=f"127.0.0.1:{free_port()}")
    enforced()
    try:
        launched = copy.interrupted_up(lambda: len((copy.state() or {}).get("instances", {})) == 3,
                                       env=user)
        assert "launching worker3" in launched.stdout and "AccessDenied" not in launched.stdout + launched.stderr
        halted = copy.invoke("cluster.halt", "--aws", env=user)
        assert halted.returncode == 0, halted.stderr
        as_user = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_url,
                               aws_access_key_id=user["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=user["AWS_SECRET_ACCESS_KEY"])
        started = copy.interrupted_up(lambda: running(as_user) == 3, env=user)
        assert "starting 3 stopped instance(s)" in started.stdout, started.stdout
        assert "AccessDenied" not in started.stdout + started.stderr, started.stderr
        for task in (("cluster.status", "--aws"), ("cluster.reap", "--aws")):
            proc = copy.invoke(*task, env=user)
            assert proc.returncode == 0, proc.stderr
        destroyed = copy.invoke("cluster.destroy", "--aws", env=user)
        assert destroyed.returncode == 0, destroyed.stderr
        assert "deleted security group" in destroyed.stdout and "deleted key pair" in destroyed.stdout
    finally:
        enforce_iam(moto_url, False)
    assert leftovers(ec2) == NOTHING


def test_a_missing_permission_is_one_line(ec2_copy, moto_url, enforced):
    narrow = json.loads(json.dumps(POLICY))
    narrow["Statement"][0]["Action"].remove("ec2:DescribeInstanceTypes")
    user = iam_user(moto_url, narrow, "ducttape-narrow")
    ec2_copy.write_settings()
    enforced()
    proc = ec2_copy.invoke("cluster.up", "--aws", env=user)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "cannot check the settings in EC2 region us-east-1: AccessDenied" in proc.stderr
    assert "ec2:DescribeInstanceTypes" in proc.stderr
    enforce_iam(moto_url, False)
    assert leftovers(ec2_copy.ec2) == NOTHING
