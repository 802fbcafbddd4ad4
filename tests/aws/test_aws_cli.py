"""The `invoke cluster.* --aws` tasks as a user runs them: status, reap, credentials, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]


def invoke(*args, cwd=REPO, timeout=300):
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())


def launch(ec2, tags, count=1):
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    out = ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count,
                            InstanceType="t3.micro", TagSpecifications=spec)
    return [i["InstanceId"] for i in out["Instances"]]


def states(ec2):
    return {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]}


def test_status_and_reap_touch_only_this_projects_instances(moto_ec2, moto_url, monkeypatch):
    monkeypatch.setenv("DUCTTAPE_EC2_ENDPOINT", moto_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    ours = launch(moto_ec2, {"Project": "ducttape", "DucttapeDriver": "laptop", "Name": "ducttape-worker1"}, 2)
    theirs = launch(moto_ec2, {"Project": "kafka-perf"}) + launch(moto_ec2, {})

    status = invoke("cluster.status", "--aws")
    assert status.returncode == 0, status.stderr
    assert all(i in status.stdout for i in ours) and not any(i in status.stdout for i in theirs)

    # orphans of no cluster of this workspace: reaped only with --all
    mine = invoke("cluster.reap", "--aws", "--yes")
    assert mine.returncode == 0, mine.stderr
    assert not any(i in mine.stdout for i in ours) and "--all reaps every" in mine.stdout
    assert set(states(moto_ec2)[i] for i in ours) == {"running"}

    dry = invoke("cluster.reap", "--aws", "--all")
    assert dry.returncode == 0, dry.stderr
    assert all(i in dry.stdout for i in ours) and "--yes" in dry.stdout
    assert set(states(moto_ec2)[i] for i in ours) == {"running"}

    reaped = invoke("cluster.reap", "--aws", "--yes", "--all")
    assert reaped.returncode == 0, reaped.stderr
    now = states(moto_ec2)
    assert all(now[i] in ("shutting-down", "terminated") for i in ours)
    assert all(now[i] == "running" for i in theirs)
    assert "no ducttape instances" in invoke("cluster.status", "--aws").stdout


def test_reap_without_aws_is_one_line():
    proc = invoke("cluster.reap")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "cluster.reap --aws" in proc.stderr


def test_the_instance_role_reaches_ec2_and_is_written_nowhere(fake_imds, moto_url, tmp_path):
    """`cluster.status --aws` on a machine with an instance role: boto3 takes the credentials
    from instance metadata (on 127.0.0.1) and they end up in no file and no output."""
    env = {**os.environ, "DUCTTAPE_EC2_ENDPOINT": moto_url, "AWS_DEFAULT_REGION": "us-east-1",
           "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "invoke", "cluster.status", "--aws"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "no ducttape instances" in proc.stdout
    assert any(path.startswith("/latest/meta-data/iam/security-credentials/") for path in fake_imds.requests)
    hidden = [fake_imds.credentials["SecretAccessKey"], fake_imds.credentials["Token"]]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    written += [p for p in Path(os.environ["HOME"]).rglob("*") if p.is_file()]
    for path in written:
        data = path.read_bytes()
        assert not any(secret.encode() in data for secret in hidden), f"{path} holds a secret"
    assert not any(secret in proc.stdout + proc.stderr for secret in hidden)


def test_unknown_profile_is_one_line(aws_env):
    proc = invoke("cluster.status", "--aws", "--profile", "no-such-profile")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "AWS profile 'no-such-profile' not found" in proc.stderr


def test_provider_aws_points_at_the_ec2_backend():
    proc = invoke("cluster.up", "--provider", "aws")
    assert proc.returncode == 2 and "cluster.up --aws" in proc.stderr


def test_a_named_profile_supplies_the_credentials(aws_env, moto_url):
    """With no credentials anywhere else, `--profile` makes boto3 read them from that profile."""
    env = {**os.environ, "DUCTTAPE_EC2_ENDPOINT": moto_url, "AWS_DEFAULT_REGION": "us-east-1"}
    aws_env.credentials.write_text("[ducttape-test]\naws_access_key_id = AKIAPROFILEEXAMPLE\n"
                                   "aws_secret_access_key = profile-secret-never-shown\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=120, env=env)

    without = run("cluster.status", "--aws")
    assert without.returncode == 2 and "no AWS credentials found" in without.stderr
    with_profile = run("cluster.status", "--aws", "--profile", "ducttape-test")
    assert with_profile.returncode == 0, with_profile.stderr
    assert "profile-secret-never-shown" not in with_profile.stdout + with_profile.stderr


def test_reap_touches_only_the_clusters_of_this_workspace(moto_ec2, moto_url, monkeypatch, tmp_path):
    from ducttape.aws import state
    from ducttape.aws.cluster import EC2Cluster

    monkeypatch.setenv("DUCTTAPE_EC2_ENDPOINT", moto_url)
    past, future = "2020-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00"
    project = {"Project": "ducttape"}
    expired_mine = launch(moto_ec2, {**project, "DucttapeCluster": "ducttape-0000mine", "DucttapeExpires": past})
    live_mine = launch(moto_ec2, {**project, "DucttapeCluster": "ducttape-0000mine", "DucttapeExpires": future})
    expired_other = launch(moto_ec2, {**project, "DucttapeCluster": "ducttape-1111else", "DucttapeExpires": past})
    orphan = launch(moto_ec2, project)
    state.save_state(tmp_path, {"cluster_id": "ducttape-0000mine", "region": "us-east-1", "instances": {}})
    state.forget(tmp_path)  # destroyed since: its id is still known as this workspace's
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    lines = []
    rows = EC2Cluster(tmp_path, echo=lines.append).reap(yes=True)
    assert [row["id"] for row in rows] == expired_mine
    now = states(moto_ec2)
    assert now[expired_mine[0]] in ("shutting-down", "terminated")
    assert {now[i] for i in live_mine + expired_other + orphan} == {"running"}
    assert any("only this workspace's clusters (ducttape-0000mine)" in line for line in lines)
    rows = EC2Cluster(tmp_path, echo=lines.append).reap(yes=True, everything=True)
    assert {row["id"] for row in rows} == set(expired_other + orphan)
