"""Real hosts for moto's instances: one Debian 12 container per running instance, booted the
way EC2 boots a Debian AMI. moto keeps the instances' records but runs nothing; this plays EC2's
part for ours: it starts a container from a bare debootstrap image (sshd and sudo, no JRE, like
the AMI), adds the login user with the instance's key pair (cloud-init's job), starts sshd and
runs the instance's user data as root, exactly as moto stored it. A stopped instance's container
loses /mnt (an instance-store disk) and stops; a terminated one is removed."""

import base64
import subprocess
import threading
from pathlib import Path

from ducttape.vagrant.image import debian_mirror

BOOT = ("ssh-keygen -A >/dev/null && mkdir -p /run/sshd && /usr/sbin/sshd && "
        "bash /root/user-data >/var/log/cloud-init-output.log 2>&1")
START = "mkdir -p /run/sshd && /usr/sbin/sshd"


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

    def __init__(self, ec2, image, network, subnet, prefix):
        self.ec2, self.image, self.network, self.subnet, self.prefix = ec2, image, network, subnet, prefix
        self.containers = {}  # instance id -> (container name, running)
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
            docker("rm", "--force", name, check=False)

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
            docker("rm", "--force", known[0], check=False)
            del self.containers[iid]

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
        docker("exec", "--detach", name, "sh", "-c", BOOT)
