"""A throw-away workspace with an ec2.yaml of its own, driven by `ducttape cluster.* --aws`
against the moto server (never AWS: $DUCTTAPE_EC2_ENDPOINT points at 127.0.0.1)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml


MOTO_ACCOUNT = "123456789012"


class EC2Copy:
    def __init__(self, root: Path, endpoint: str, ec2):
        self.root, self.endpoint, self.ec2 = root, endpoint, ec2
        root.mkdir(parents=True, exist_ok=True)
        (root / "projects.yaml").write_text("projects: []\n")
        (root / "build" / "kafka").mkdir(parents=True)
        (root / "build" / "kafka" / "marker.txt").write_text("rsynced\n")
        self.key_file = root / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f",
                        str(self.key_file)], check=True, timeout=30)

    def write_settings(self, **settings):
        base = {"num_workers": 3, "region": "us-east-1", "ami_owner": "self",
                "ami_name": "debian-12-amd64-*", "key_file": str(self.key_file),
                "ssh_from": "198.51.100.7/32", "ssh_timeout": 60, "launch_timeout": 60}
        (self.root / "ec2.yaml").write_text(yaml.safe_dump({**base, **settings}))

    def env(self, endpoint=None, extra=None):
        return {**os.environ, "DUCTTAPE_EC2_ENDPOINT": endpoint or self.endpoint, **(extra or {})}

    def invoke(self, *args, endpoint=None, env=None, timeout=600):
        """Run `ducttape ARGS` in the workspace (``env`` adds variables); CompletedProcess."""
        return subprocess.run([sys.executable, "-m", "ducttape", *args], cwd=self.root,
                              env=self.env(endpoint, env), capture_output=True, text=True,
                              timeout=timeout)

    def interrupted_up(self, ready, env=None):
        """Run `cluster.up --aws` and Ctrl-C it as soon as ``ready()`` is true (within 120 s);
        return the CompletedProcess. Point ssh_route at a port nobody answers first."""
        proc = subprocess.Popen([sys.executable, "-m", "ducttape", "cluster.up", "--aws"],
                                cwd=self.root, env=self.env(None, env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not ready():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "not ready within 120 s"
                time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def state(self):
        path = self.root / ".ec2" / "state.json"
        return json.loads(path.read_text()) if path.exists() else None

    def nodes(self):
        return json.loads((self.root / ".ec2" / "cluster.json").read_text())["nodes"]


def register_debian_image(ec2):
    """A stand-in for Debian's AMI in moto (moto has none), found by name like the real one."""
    return ec2.register_image(Name="debian-12-amd64-20261201-2000", Architecture="x86_64",
                              RootDeviceName="/dev/xvda")["ImageId"]


def leftovers(ec2):
    """Everything tagged Project=ducttape that is still there: live instances, groups, keys."""
    tag = [{"Name": "tag:Project", "Values": ["ducttape"]}]
    live = [{"Name": "instance-state-name",
             "Values": ["pending", "running", "shutting-down", "stopping", "stopped"]}]
    instances = [i["InstanceId"] for r in ec2.describe_instances(Filters=tag + live)["Reservations"]
                 for i in r["Instances"]]
    groups = [g["GroupId"] for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]]
    keys = [k["KeyName"] for k in ec2.describe_key_pairs(Filters=tag)["KeyPairs"]]
    return {"instances": instances, "security_groups": groups, "key_pairs": keys}


NOTHING = {"instances": [], "security_groups": [], "key_pairs": []}
