"""The `invoke cluster.*` tasks on the AWS path, as a user runs them: up to the EC2 boundary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]
COPIED = ["Vagrantfile", "tasks.py", "vagrant/base.sh", "ducttape"]


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

    dry = invoke("cluster.reap", "--aws")
    assert dry.returncode == 0, dry.stderr
    assert all(i in dry.stdout for i in ours) and "--yes" in dry.stdout
    assert set(states(moto_ec2)[i] for i in ours) == {"running"}

    reaped = invoke("cluster.reap", "--aws", "--yes")
    assert reaped.returncode == 0, reaped.stderr
    now = states(moto_ec2)
    assert all(now[i] in ("shutting-down", "terminated") for i in ours)
    assert all(now[i] == "running" for i in theirs)
    assert "no ducttape instances" in invoke("cluster.status", "--aws").stdout


def test_reap_without_aws_is_one_line():
    proc = invoke("cluster.reap")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "cluster.reap --aws" in proc.stderr


def test_up_aws_hands_the_role_credentials_to_vagrant_and_writes_none(fake_imds, tmp_path):
    """`cluster.up --aws` on a machine with an instance role: the credentials come from instance
    metadata (on 127.0.0.1), reach the real `vagrant` process, and are written nowhere. The run
    stops at the boundary of what runs here: the vagrant-aws plugin is not installed."""
    repo = tmp_path / "repo"
    for rel in COPIED:
        src, dst = REPO / rel, repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    key = tmp_path / "ec2-key.pem"
    key.write_text("not a real key\n")
    (repo / "Vagrantfile.local").write_text(
        f'num_workers = 2\nec2_ami = "ami-12c6146b"\nec2_keypair_name = "ducttape"\n'
        f'ec2_keypair_file = "{key}"\n')

    proc = invoke("cluster.up", "--aws", cwd=repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == "error: the vagrant-aws plugin is missing: run `vagrant plugin install vagrant-aws`"

    layout = json.loads((repo / ".vagrant" / "ducttape-layout.json").read_text())
    assert layout["ec2"]["credentials_in_env"] == ["AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN"]
    assert any(path.startswith("/latest/meta-data/iam/security-credentials/") for path in fake_imds.requests)

    hidden = [fake_imds.credentials["SecretAccessKey"], fake_imds.credentials["Token"]]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    written += [p for p in Path(os.environ["HOME"]).rglob("*") if p.is_file()]
    assert written
    for path in written:
        data = path.read_bytes()
        for secret in hidden:
            assert secret.encode() not in data, f"{path} holds a secret"
    for secret in hidden:
        assert secret not in proc.stdout + proc.stderr
