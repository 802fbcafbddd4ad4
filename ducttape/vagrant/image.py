"""The node image of the docker provider, built here without any image registry.

A Debian bookworm root filesystem made by `debootstrap` from the Debian mirror apt uses, with a
JDK for Kafka (jcmd and jps too), Debian's python3, sshd and a `vagrant` user with sudo, imported
with `docker import`. No key is baked in: each container authorizes the public key it is given in
DUCTTAPE_AUTHORIZED_KEY (the Vagrantfile passes the workspace's ``vagrant/image/id_ed25519.pub``),
so every workspace on a machine shares one image. The image carries a hash of its inputs (this
recipe, the node script, the suite and the packages) as a label; it is stale when they change,
whatever the files' times.
"""

import glob
import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from ducttape.errors import ClusterError
from ducttape.vagrant.proc import run
from ducttape.workspace import Workspace

SUITE = "bookworm"
# a JDK, not a JRE: kafkatest's services find their JVMs with jcmd and jps; python3 for the
# scenarios and examples whose programs are Python (python3 -m http.server, the echo server);
# netcat, iperf and ping for kafkatest's network checks (nc -z, network_degrade_test)
PACKAGES = [
    "openjdk-17-jdk-headless",
    "python3",
    "openssh-server",
    "sudo",
    "curl",
    "procps",
    "iproute2",
    "iptables",
    "rsync",
    "ca-certificates",
    "netcat-openbsd",
    "iperf",
    "iputils-ping",
]
DEFAULT_MIRROR = "http://deb.debian.org/debian"
RECIPE_LABEL = "ducttape.node-recipe"
KEY_ENV = "DUCTTAPE_AUTHORIZED_KEY"
ENTRYPOINT = "/usr/local/sbin/ducttape-node-init"

_INIT_SCRIPT = f"""#!/bin/sh
# Container entry point: host keys of its own for each container, the vagrant user's key from
# ${KEY_ENV}, then sshd in the foreground.
set -e
if [ -z "${KEY_ENV}" ]; then
  echo "ducttape-node-init: {KEY_ENV} is empty: start the container with the login's public key" >&2
  exit 1
fi
ssh-keygen -A >/dev/null
install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh
printf '%s\\n' "${KEY_ENV}" > /home/vagrant/.ssh/authorized_keys
chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys
chmod 600 /home/vagrant/.ssh/authorized_keys
mkdir -p /run/sshd
exec /usr/sbin/sshd -D -e
"""
_SSHD_CONFIG = "UseDNS no\nPasswordAuthentication no\nPermitRootLogin no\n"


def image_dir(root):
    """Where the node key, the package cache and the scratch rootfs live (git-ignored)."""
    return Workspace(root).node_image_dir


def key_file(root):
    """The private key the workers of the checkout at ``root`` authorize; made by `ensure_key`."""
    return image_dir(root) / "id_ed25519"


def ensure_key(root):
    """Create the node key pair if it is missing; return the private key's path."""
    key = key_file(root)
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ducttape-node", "-f", str(key)],
            timeout=30,
            what="ssh-keygen",
        )
    return key


def recipe_hash(root):
    """A hash of what the node image is made from: this module (the recipe), the node script of
    the workspace at ``root`` (`Workspace.node_script`), the Debian suite and the packages."""
    digest = hashlib.sha256()
    for part in (
        Path(__file__).read_bytes(),
        Workspace(root).node_script.read_bytes(),
        SUITE.encode(),
        " ".join(PACKAGES).encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def image_state(root, image):
    """'current', 'stale' (made from other inputs than ``recipe_hash(root)``) or 'missing'."""
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", '{{ index .Config.Labels "%s" }}' % RECIPE_LABEL, image],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        return "missing"
    return "current" if result.stdout.strip() == recipe_hash(root) else "stale"


def debian_mirror(sources=None):
    """The Debian mirror apt uses on this machine (from /etc/apt/sources.list*), for debootstrap."""
    if sources is None:
        sources = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*"))
    for path in sources:
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        # one-line format: deb [options] URI suite components
        for match in re.finditer(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            uri, suite = match.groups()
            if suite == SUITE and uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
        # deb822 format: stanzas with URIs: and Suites:
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(.+)$", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split():
                for uri in uris.group(1).split():
                    if uri.rstrip("/").endswith("/debian"):
                        return uri.rstrip("/")
    return DEFAULT_MIRROR


def build_image(root, image, echo=print):
    """Build (or rebuild) the node image ``image``; return the seconds it took."""
    started = time.monotonic()
    recipe = recipe_hash(root)
    rootfs = image_dir(root).resolve() / "rootfs"
    cache = image_dir(root).resolve() / "debs"
    cache.mkdir(parents=True, exist_ok=True)
    _remove_rootfs(rootfs)
    mirror = debian_mirror()
    try:
        echo(f"image: debootstrap {SUITE} from {mirror} (about a minute)")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=" + ",".join(PACKAGES),
                f"--cache-dir={cache}",
                SUITE,
                str(rootfs),
                mirror,
            ],
            timeout=900,
            what="debootstrap",
        )
        echo("image: add the vagrant user and the sshd entry point")
        _configure(rootfs)
        echo(f"image: docker import as {image}")
        _import(rootfs, image, recipe)
    finally:
        _remove_rootfs(rootfs)
    return time.monotonic() - started


def _configure(rootfs):
    chroot = ["chroot", str(rootfs)]
    run(
        chroot + ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", "vagrant"],
        timeout=60,
        what="useradd in the node rootfs",
    )
    run(chroot + ["usermod", "--password", "*", "vagrant"], timeout=60, what="usermod")
    sudoers = rootfs / "etc/sudoers.d/vagrant"
    sudoers.write_text("vagrant ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)
    (rootfs / "etc/ssh/sshd_config.d/ducttape.conf").write_text(_SSHD_CONFIG)
    for host_key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        host_key.unlink()
    init = rootfs / ENTRYPOINT.lstrip("/")
    init.write_text(_INIT_SCRIPT)
    init.chmod(0o755)
    for leftover in [*(rootfs / "var/cache/apt/archives").glob("*.deb"), *(rootfs / "var/lib/apt/lists").glob("*_*")]:
        leftover.unlink()


def _import(rootfs, image, recipe):
    changes = [f'CMD ["{ENTRYPOINT}"]', "EXPOSE 22", f"LABEL {RECIPE_LABEL}={recipe}"]
    command = ["docker", "import"] + [arg for change in changes for arg in ("--change", change)]
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        run(command + ["-", image], timeout=600, what="docker import", stdin=tar.stdout)
    finally:
        tar.stdout.close()
        if tar.poll() is None:
            tar.kill()
        tar.wait(timeout=30)
    if tar.returncode != 0:
        raise ClusterError(f"tar of the node rootfs {rootfs} failed (exit {tar.returncode})")


def _remove_rootfs(rootfs):
    """Delete a scratch rootfs, refusing if anything is still mounted inside it."""
    if not rootfs.exists():
        return
    prefix = str(rootfs.resolve()) + os.sep
    with open("/proc/self/mounts") as mounts:
        busy = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    if busy:
        raise ClusterError(f"{busy[0]} is still mounted inside {rootfs}: unmount it, then retry")
    shutil.rmtree(rootfs)
