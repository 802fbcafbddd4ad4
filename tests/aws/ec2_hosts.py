"""Real hosts for moto's instances: one Debian 12 container per running instance, booted the
way EC2 boots a Debian AMI. moto keeps the instances' records but runs nothing; this plays EC2's
part for ours: it starts a container from a bare debootstrap image (sshd and sudo, no JRE, like
the AMI), adds the login user with the instance's key pair (cloud-init's job), starts sshd and
runs the instance's user data as root, exactly as moto stored it. A stopped instance's container
loses /mnt (an instance-store disk) and stops; a terminated one is removed.

For the host key tests it also holds each new container's sshd back until the workspace's
known_hosts names the container's address (so no SSH contact can come before that entry), and
records what it saw: the entry, the key sshd started with (``ssh-keygen -A``, as on an AMI before
the user data runs) and sshd's log. An ``impostor`` Booter never runs the user data: its hosts
keep showing their own keys, as someone else's host at the instance's address would."""

import base64
import subprocess
import threading
import time
from pathlib import Path

from ducttape.vagrant.image import debian_mirror

START = "mkdir -p /run/sshd && /usr/sbin/sshd -E /var/log/sshd.log"
RUN_USER_DATA = " && bash /root/user-data >/var/log/cloud-init-output.log 2>&1"
KNOWN_HOSTS_WAIT = 60


def docker(*args, check=True, timeout=120, **kwargs):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=check, **kwargs).stdout


def build_bare_image(tag, workdir: Path, cache: Path):
    """A Debian 12 root (debootstrap minbase + openssh-server, sudo) imported as ``tag``."""
    rootfs = workdir / "rootfs"
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["debootstrap", "--variant=minbase", "--include=openssh-server,sudo,ca-certificates",
                    f"--cache-dir={cache}", "bookworm", str(rootfs), debian_mirror()],
                   check=True, capture_output=True, timeout=900)
    for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    (rootfs / "etc/sudoers.d/90-cloud-init-users").write_text("admin ALL=(ALL) NOPASSWD:ALL\n")
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."],
                           stdout=subprocess.PIPE)
    try:
        docker("import", "--change", 'CMD ["/bin/sleep", "infinity"]', "-", tag, stdin=tar.stdout,
               timeout=600)
    finally:
        tar.stdout.close()
        tar.wait(timeout=60)
    subprocess.run(["rm", "-rf", str(rootfs)], check=True, timeout=300)


class Booter:
    """Mirrors the state of moto's instances of Project=ducttape onto containers on ``network``
    at ``subnet``.(10+N) for workerN, until closed."""

    def __init__(self, ec2, image, network, subnet, prefix, known_hosts: Path):
        self.ec2, self.image, self.network, self.subnet, self.prefix = ec2, image, network, subnet, prefix
        self.known_hosts = known_hosts
        self.impostor = False
        self.containers = {}  # instance id -> (container name, running)
        self.known_at_boot = {}  # workerN -> "TYPE BASE64" known_hosts had for it before its sshd ran
        self.boot_keys = {}  # workerN -> "TYPE BASE64" of the ed25519 key its sshd started with
        self.sshd_logs = {}  # workerN -> sshd's log, kept when its container goes
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=120)
        for name, _ in self.containers.values():
            self._remove(name)

    def _run(self):
        while not self._stop.wait(0.3):
            try:
                self._sync()
            except Exception as err:  # noqa: BLE001 - reported by the test through .errors
                self.errors.append(repr(err))

    def _sync(self):
        tag = [{"Name": "tag:Project", "Values": ["ducttape"]}]
        for reservation in self.ec2.describe_instances(Filters=tag)["Reservations"]:
            for instance in reservation["Instances"]:
                self._mirror(instance)

    def _mirror(self, instance):
        iid, state = instance["InstanceId"], instance["State"]["Name"]
        known = self.containers.get(iid)
        if state == "running" and known is None:
            self._boot(instance)
        elif state == "running" and not known[1]:
            docker("start", known[0])
            docker("exec", known[0], "sh", "-c", START)
            self.containers[iid] = (known[0], True)
        elif state in ("stopping", "stopped") and known and known[1]:
            docker("exec", known[0], "rm", "-rf", "/mnt")
            docker("stop", "--time", "2", known[0])
            self.containers[iid] = (known[0], False)
        elif state in ("shutting-down", "terminated") and known:
            self._remove(known[0])
            del self.containers[iid]

    def _remove(self, name):
        log = subprocess.run(["docker", "exec", name, "cat", "/var/log/sshd.log"], capture_output=True,
                             text=True, timeout=60)
        if log.returncode == 0:
            self.sshd_logs[name.rpartition("-")[2]] = log.stdout
        docker("rm", "--force", name, check=False)

    def _boot(self, instance):
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        index = int(tags["Name"].rpartition("worker")[2])
        name = f"{self.prefix}-worker{index}"
        docker("run", "--detach", "--name", name, "--hostname", f"worker{index}",
               "--network", self.network, "--ip", f"{self.subnet}.{10 + index}", self.image)
        self.containers[instance["InstanceId"]] = (name, True)
        key = self.ec2.describe_key_pairs(KeyNames=[instance["KeyName"]],
                                          IncludePublicKey=True)["KeyPairs"][0]["PublicKey"]
        data = self.ec2.describe_instance_attribute(InstanceId=instance["InstanceId"],
                                                    Attribute="userData")["UserData"]["Value"]
        docker("exec", "-i", name, "sh", "-c", "cat > /root/user-data",
               input=base64.b64decode(data).decode())
        docker("exec", "-i", name, "sh", "-c",
               "useradd --create-home --shell /bin/bash admin && mkdir -p ~admin/.ssh && "
               "cat > ~admin/.ssh/authorized_keys && chown -R admin: ~admin/.ssh", input=key)
        docker("exec", name, "ssh-keygen", "-A")
        worker = f"worker{index}"
        self.boot_keys[worker] = " ".join(
            docker("exec", name, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").split()[:2])
        self.known_at_boot[worker] = self._known_key(f"{self.subnet}.{10 + index}")
        docker("exec", "--detach", name, "sh", "-c", START + ("" if self.impostor else RUN_USER_DATA))

    def _known_key(self, address):
        """The key known_hosts names for ``address`` ("TYPE BASE64"), waited for; None if none."""
        deadline = time.monotonic() + KNOWN_HOSTS_WAIT
        while time.monotonic() < deadline and not self._stop.is_set():
            if self.known_hosts.exists():
                for line in self.known_hosts.read_text().splitlines():
                    host, _, key = line.partition(" ")
                    if host == address:
                        return key
            time.sleep(0.2)
        return None
