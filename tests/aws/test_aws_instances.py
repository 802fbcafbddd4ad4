"""list_instances / reap / format_instances against moto's EC2 server on 127.0.0.1."""

import time
from datetime import datetime

import pytest

from aws_helpers import free_port

from ducttape.aws.ec2 import DRIVER_TAG_KEY, PROJECT_TAG_KEY, PROJECT_TAG_VALUE
from ducttape.aws.instances import format_instances, list_instances, reap
from ducttape.errors import ConfigError, DucttapeError

pytestmark = pytest.mark.aws

REGION = "us-east-1"


def launch(ec2, tags, instance_type="t3.micro"):
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "architecture", "Values": ["x86_64"]},
        {"Name": "name", "Values": ["amzn2-ami-hvm-*-gp2"]}])["Images"][0]["ImageId"]
    spec = [{"ResourceType": "instance",
             "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    response = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 InstanceType=instance_type, TagSpecifications=spec)
    return response["Instances"][0]["InstanceId"]


def ours(worker, driver="driver-a"):
    return {PROJECT_TAG_KEY: PROJECT_TAG_VALUE, DRIVER_TAG_KEY: driver,
            "Name": f"ducttape-worker{worker}"}


@pytest.fixture
def fleet(moto_ec2):
    """Two running and one stopped instance of ours, one terminated, and others' instances."""
    fleet = {
        "w1": launch(moto_ec2, ours(1), "m5.large"),
        "w2": launch(moto_ec2, ours(2)),
        "stopped": launch(moto_ec2, ours(3, driver="driver-b")),
        "gone": launch(moto_ec2, ours(4)),
        "untagged": launch(moto_ec2, {}),
        "other": launch(moto_ec2, {PROJECT_TAG_KEY: "kafka-perf", "Name": "ducttape-worker1"}),
        "lookalike": launch(moto_ec2, {"Name": "ducttape-worker5", DRIVER_TAG_KEY: "driver-a"}),
        "prefix": launch(moto_ec2, {PROJECT_TAG_KEY: "ducttape-old"}),
    }
    moto_ec2.stop_instances(InstanceIds=[fleet["stopped"]])
    moto_ec2.terminate_instances(InstanceIds=[fleet["gone"]])
    return fleet


def states(ec2):
    pages = ec2.get_paginator("describe_instances").paginate()
    return {i["InstanceId"]: i["State"]["Name"]
            for page in pages for r in page["Reservations"] for i in r["Instances"]}


def test_list_shows_only_live_project_instances(fleet, moto_url):
    rows = list_instances(REGION, endpoint_url=moto_url)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {fleet["w1"], fleet["w2"], fleet["stopped"]}
    assert by_id[fleet["w1"]] == {
        "id": fleet["w1"], "name": "ducttape-worker1", "cluster": "", "state": "running",
        "type": "m5.large", "launch_time": by_id[fleet["w1"]]["launch_time"], "expires": "",
        "driver": "driver-a", "reapable": True}  # no expiry tag: an orphan
    assert by_id[fleet["stopped"]]["state"] == "stopped"
    assert by_id[fleet["stopped"]]["driver"] == "driver-b"
    launched = datetime.fromisoformat(by_id[fleet["w2"]]["launch_time"])
    assert launched.utcoffset().total_seconds() == 0


def test_reap_without_yes_is_a_dry_run(fleet, moto_ec2, moto_url):
    before = states(moto_ec2)
    rows = reap(REGION, endpoint_url=moto_url)
    assert {row["id"] for row in rows} == {fleet["w1"], fleet["w2"], fleet["stopped"]}
    assert states(moto_ec2) == before
    assert before[fleet["w1"]] == "running"


def test_reap_with_yes_terminates_only_ours(fleet, moto_ec2, moto_url):
    rows = reap(REGION, yes=True, endpoint_url=moto_url)
    assert {row["id"] for row in rows} == {fleet["w1"], fleet["w2"], fleet["stopped"]}
    assert {row["state"] for row in rows} <= {"shutting-down", "terminated"}
    after = states(moto_ec2)
    for name in ("w1", "w2", "stopped", "gone"):
        assert after[fleet[name]] == "terminated", name
    for name in ("untagged", "other", "lookalike", "prefix"):
        assert after[fleet[name]] == "running", name
    assert list_instances(REGION, endpoint_url=moto_url) == []
    assert reap(REGION, yes=True, endpoint_url=moto_url) == []


def test_other_regions_are_untouched(moto_ec2, moto_url):
    import boto3

    west = boto3.client("ec2", region_name="us-west-2", endpoint_url=moto_url)
    west_id = launch(west, ours(1))
    east_id = launch(moto_ec2, ours(1))
    assert [row["id"] for row in reap(REGION, yes=True, endpoint_url=moto_url)] == [east_id]
    assert states(west)[west_id] == "running"


def test_endpoint_and_region_from_environment(fleet, moto_url, monkeypatch, aws_env):
    monkeypatch.setenv("DUCTTAPE_EC2_ENDPOINT", moto_url)
    aws_env.config.write_text(f"[default]\nregion = {REGION}\n")
    assert len(list_instances()) == 3


def test_no_region_is_one_clear_line(moto_ec2, moto_url):
    with pytest.raises(ConfigError) as info:
        list_instances(endpoint_url=moto_url)
    message = str(info.value)
    assert "\n" not in message and "AWS_DEFAULT_REGION" in message


def test_no_credentials_is_one_clear_line(aws_env, moto_url):
    with pytest.raises(DucttapeError) as info:
        list_instances(REGION, endpoint_url=moto_url)
    message = str(info.value)
    assert "\n" not in message and "no AWS credentials found" in message


def test_unreachable_endpoint_fails_fast_with_one_line(moto_ec2):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(DucttapeError) as info:
        list_instances(REGION, endpoint_url=url)
    message = str(info.value)
    assert "\n" not in message and "cannot list instances in EC2 region us-east-1" in message
    assert url in message
    assert time.monotonic() - started < 30


def test_format_instances(fleet, moto_url):
    table = format_instances(list_instances(REGION, endpoint_url=moto_url))
    lines = table.splitlines()
    assert lines[0].split() == ["id", "name", "cluster", "state", "type", "launch_time", "expires",
                                "driver"]
    assert len(lines) == 2 + 3 and fleet["w1"] in table and "driver-b" in table
    assert format_instances([]) == "no ducttape instances"
