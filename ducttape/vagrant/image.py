"""The node image of the docker provider, built here without any image registry.

A Debian bookworm root filesystem made by `debootstrap` from the Debian mirror apt uses, with a
JRE for Kafka, sshd and a `vagrant` user whose key (``vagrant/image/id_ed25519``, git-ignored) is
baked in, imported with `docker import`. The image carries the key's fingerprint as a label, so
a new key makes the image stale.
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

SUITE = "bookworm"
PACKAGES = ["openjdk-17-jre-headless", "openssh-server", "sudo", "curl", "procps", "iproute2",
            "iptables", "rsync", "ca-certificates"]
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEY_LABEL = "ducttape.node-key"
ENTRYPOINT = "/usr/local/sbin/ducttape-node-init"

_INIT_SCRIPT = """#!/bin/sh
# Container entry point: host keys of its own for each container, then sshd in the foreground.
set -e
ssh-keygen -A >/dev/null
mkdir -p /run/sshd
exec /usr/sbin/sshd -D -e
"""
_SSHD_CONFIG = "UseDNS no\nPasswordAuthentication no\nPermitRootLogin no\n"


def image_dir(root):
    """Where the node key, the package cache and the scratch rootfs live (git-ignored)."""
    return Path(root) / "vagrant" / "image"


def key_file(root):
    """The private key baked into the node image; created by `ensure_key`."""
    return image_dir(root) / "id_ed25519"


def ensure_key(root):
    """Create the node key pair if it is missing; return the private key's path."""
    key = key_file(root)
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ducttape-node", "-f", str(key)],
            timeout=30, what="ssh-keygen")
    return key


def key_fingerprint(root):
    """A short fingerprint of the node's public key, or None if there is no key yet."""
    pub = key_file(root).with_suffix(".pub")
    if not pub.exists():
        return None
    algo_and_key = " ".join(pub.read_text().split()[:2])
    return hashlib.sha256(algo_and_key.encode()).hexdigest()[:16]


def image_state(root, image):
    """'current', 'stale' (made for another key) or 'missing'."""
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{ index .Config.Labels \"%s\" }}" % KEY_LABEL,
         image], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        return "missing"
    fingerprint = key_fingerprint(root)
    return "current" if fingerprint and result.stdout.strip() == fingerprint else "stale"


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
    key = ensure_key(root)
    fingerprint = key_fingerprint(root)
    rootfs = image_dir(root).resolve() / "rootfs"
    cache = image_dir(root).resolve() / "debs"
    cache.mkdir(parents=True, exist_ok=True)
    _remove_rootfs(rootfs)
    mirror = debian_mirror()
    try:
        echo(f"image: debootstrap {SUITE} from {mirror} (about a minute)")
        run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
             f"--cache-dir={cache}", SUITE, str(rootfs), mirror],
            timeout=900, what="debootstrap")
        echo("image: add the vagrant user, its key and the sshd entry point")
        _configure(rootfs, key.with_suffix(".pub").read_text())
        echo(f"image: docker import as {image}")
        _import(rootfs, image, fingerprint)
    finally:
        _remove_rootfs(rootfs)
    return time.monotonic() - started


def _configure(rootfs, public_key):
    chroot = ["chroot", str(rootfs)]
    run(chroot + ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", "vagrant"],
        timeout=60, what="useradd in the node rootfs")
    run(chroot + ["usermod", "--password", "*", "vagrant"], timeout=60, what="usermod")
    ssh_dir = rootfs / "home/vagrant/.ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "authorized_keys").write_text(public_key)
    (ssh_dir / "authorized_keys").chmod(0o600)
    run(chroot + ["chown", "-R", "vagrant:vagrant", "/home/vagrant/.ssh"], timeout=60, what="chown")
    sudoers = rootfs / "etc/sudoers.d/vagrant"
    sudoers.write_text("vagrant ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)
    (rootfs / "etc/ssh/sshd_config.d/ducttape.conf").write_text(_SSHD_CONFIG)
    for host_key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        host_key.unlink()
    init = rootfs / ENTRYPOINT.lstrip("/")
    init.write_text(_INIT_SCRIPT)
    init.chmod(0o755)
    for leftover in [*(rootfs / "var/cache/apt/archives").glob("*.deb"),
                     *(rootfs / "var/lib/apt/lists").glob("*_*")]:
        leftover.unlink()


def _import(rootfs, image, fingerprint):
    changes = [f'CMD ["{ENTRYPOINT}"]', "EXPOSE 22", f"LABEL {KEY_LABEL}={fingerprint}"]
    command = ["docker", "import"] + [arg for change in changes for arg in ("--change", change)]
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
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
