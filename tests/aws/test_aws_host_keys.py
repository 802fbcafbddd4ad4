"""EC2 workers' host keys are known before the first SSH contact: `cluster.up --aws` makes an
ed25519 key for each instance, hands the private half to that instance's user data (which makes
sshd serve it) and writes the public half to .ec2/known_hosts for the instance's address, then
connects under `strict`. A host at that address showing another key is refused in one line that
names the node and both fingerprints, and nothing is done on it."""

import base64
import re
import subprocess

import pytest

from aws_helpers import free_port
from ec2_copy import NOTHING, leftovers
from support import Sshd

from ducttape.aws import provision

pytestmark = pytest.mark.aws


def known_hosts(copy):
    path = copy.root / ".ec2" / "known_hosts"
    return dict(line.split(" ", 1) for line in path.read_text().splitlines()) if path.exists() else {}


def public_half(user_data, tmp_path):
    """The public key of the private host key a user data writes."""
    private = re.search(r"-----BEGIN OPENSSH PRIVATE KEY-----\n.*?-----END OPENSSH PRIVATE KEY-----\n",
                        user_data, re.S).group(0)
    path = tmp_path / "from-user-data"
    path.write_text(private)
    path.chmod(0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True,
                             check=True, timeout=30).stdout
    return " ".join(derived.split()[:2])


def fingerprint(public):
    out = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=public, capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return out.split()[1]


def test_every_host_key_is_known_before_the_first_contact(ec2_copy, tmp_path):
    """Against moto (which runs nothing): once the 3 instances run, known_hosts has one key per
    worker address, each the public half of the key in that instance's own user data; the
    private keys appear in no output and no file of the workspace; destroy forgets the keys."""
    copy = ec2_copy
    port = free_port()  # nobody answers there: `up` waits and is interrupted
    copy.write_settings(ssh_route=f"127.0.0.1{{index}}:{port}")
    proc = copy.interrupted_up(lambda: len(known_hosts(copy)) == 3)
    assert proc.returncode != 0
    known = known_hosts(copy)
    state = copy.state()
    for index, (worker, instance) in enumerate(sorted(state["instances"].items()), 1):
        data = base64.b64decode(copy.ec2.describe_instance_attribute(
            InstanceId=instance, Attribute="userData")["UserData"]["Value"]).decode()
        assert len(data.encode()) < provision.USER_DATA_LIMIT
        key = state["host_keys"][worker]
        assert known[f"[127.0.0.1{index}]:{port}"] == key == public_half(data, tmp_path)
        assert f"up: launching {worker} (host key ssh-ed25519 {fingerprint(key)})" in proc.stdout
    assert len(set(known.values())) == 3  # a key of its own for each instance
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr
    assert not any("PRIVATE KEY" in path.read_text() for path in (copy.root / ".ec2").rglob("*") if path.is_file())

    destroyed = copy.invoke("cluster.destroy", "--aws")
    assert destroyed.returncode == 0, destroyed.stderr
    assert known_hosts(copy) == {} and leftovers(copy.ec2) == NOTHING


def assert_refused_in_one_line(proc, copy, shown):
    """`up` failed in one line naming worker1, the key its user data installs and the key the
    host showed, and deleted what it created."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    expected = re.search(r"up: launching worker1 \(host key ssh-ed25519 (SHA256:\S+)\)", proc.stdout).group(1)
    assert lines[0].startswith("error: host key of node worker1 "), lines[0]
    assert f"installs (ssh-ed25519 {expected}): the host still showed ssh-ed25519 {fingerprint(shown)}" in lines[0]
    assert "rsync" not in proc.stdout and "workers running" not in proc.stdout
    assert "up: failed; deleting what it created" in proc.stdout
    assert leftovers(copy.ec2) == NOTHING and copy.state() is None


@pytest.mark.ssh
def test_a_host_showing_another_key_is_refused_and_never_logged_in_to(ec2_copy, tmp_path):
    """A real sshd of its own at worker1's address (its key is not the instance's): `up` never
    authenticates to it, and fails after ssh_timeout naming both keys."""
    server = Sshd(tmp_path / "impostor")
    config = server.dir / "sshd_config"
    config.write_text(config.read_text().replace("LogLevel ERROR", "LogLevel VERBOSE"))
    (server.dir / "authorized_keys").write_text((ec2_copy.root / "id_ed25519.pub").read_text())
    server.start()
    try:
        ec2_copy.write_settings(num_workers=1, user="root", ssh_route=f"127.0.0.1:{server.port}", ssh_timeout=4)
        proc = ec2_copy.invoke("cluster.up", "--aws")
    finally:
        server.stop()
    shown = " ".join((server.dir / "host_key.pub").read_text().split()[:2])
    assert_refused_in_one_line(proc, ec2_copy, shown)
    log = (server.dir / "sshd.log").read_text()
    assert "Connection from 127.0.0.1" in log and "Accepted" not in log, log


@pytest.mark.slow
def test_a_container_showing_another_key_is_refused(ec2_copy, ec2_hosts):
    """The instance's host is up, but its sshd keeps the key it started with (its user data
    never ran, as with someone else's host at the address): refused, no login, nothing synced."""
    ec2_hosts.impostor = True
    ec2_copy.write_settings(num_workers=1, ssh_route=f"{ec2_hosts.subnet}.1{{index}}", ssh_timeout=10)
    proc = ec2_copy.invoke("cluster.up", "--aws")
    assert_refused_in_one_line(proc, ec2_copy, ec2_hosts.boot_keys["worker1"])
    assert ec2_hosts.known_at_boot["worker1"] is not None  # known before its sshd ran
    log = ec2_hosts.sshd_logs["worker1"]
    assert "[preauth]" in log and "Accepted" not in log, log
    assert not ec2_hosts.errors, ec2_hosts.errors
