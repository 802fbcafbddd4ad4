"""A throw-away workspace whose Vagrant cluster's containers, network and ports are its own (the
Vagrant tests' and the fault tests' clusters). It has no Vagrantfile of its own: its workers come
from the one ducttape ships, as a team's workspace would.

The copies of one pytest session share one node image, SHARED_IMAGE: the first `cluster.up` or
`cluster.image` that finds it missing builds it (ducttape's own rule), the others find it
current, and `remove_shared_image` deletes it when the session ends. A copy made with
``own_image=True`` builds and removes an image of its own (the tests of the image itself).
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support import copy_repo

COPIED = ["Vagrantfile.local.example"]
SHARED_IMAGE = f"ducttape-test/node:shared-{os.getpid()}"
"""The node image of this test session's copies (pytest runs in one process)."""


@dataclass
class VagrantCopy:
    """A workspace in ``root`` with a cluster of its own."""

    root: Path
    cluster_name: str
    subnet: str
    ssh_port_base: int
    image: str
    own_image: bool = False

    @property
    def network(self):
        return f"vagrant_network_{self.subnet}.0/24"

    def write_local(self, num_workers=3, **extra):
        """Write Vagrantfile.local with this copy's names, subnet, ports and image."""
        settings = {"num_workers": num_workers, "cluster_name": self.cluster_name,
                    "subnet": self.subnet, "ssh_port_base": self.ssh_port_base,
                    "node_image": self.image, **extra}
        lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
        (self.root / "Vagrantfile.local").write_text("\n".join(lines) + "\n")

    def invoke(self, *args, env=None, timeout=600):
        """Run `ducttape ARGS` in the workspace, as a user would; return the CompletedProcess."""
        return subprocess.run([sys.executable, "-m", "ducttape", *args], cwd=self.root,
                              env=env if env is not None else os.environ.copy(),
                              capture_output=True, text=True, timeout=timeout)

    def containers(self):
        """Names of this copy's containers, running or not."""
        return docker("ps", "--all", "--format", "{{.Names}}",
                      "--filter", f"name={self.cluster_name}-").split()

    def networks(self):
        return docker("network", "ls", "--format", "{{.Name}}",
                      "--filter", f"name=vagrant_network_{self.subnet}.").split()


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120,
                          check=check).stdout


def _free_port_base(count=10):
    """A port base whose next ``count`` ports on 127.0.0.1 are free right now."""
    for _ in range(50):
        base = random.randrange(20000, 30000, 10)
        try:
            for port in range(base + 1, base + count + 1):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free range of ports on 127.0.0.1")


def make_copy(root, own_image=False):
    """A workspace in ``root`` for a Vagrant cluster with random names, subnet and ports, on the
    session's SHARED_IMAGE or, with ``own_image``, on a node image of its own."""
    copy_repo(root, COPIED)
    (root / "projects.yaml").write_text("projects: []\n")
    tag = f"{os.getpid()}-{random.randrange(10**6)}"
    return VagrantCopy(root=root, cluster_name=f"ducttape-test-{tag}",
                       subnet=f"198.19.{random.randrange(1, 255)}", ssh_port_base=_free_port_base(),
                       image=f"ducttape-test/node:{tag}" if own_image else SHARED_IMAGE,
                       own_image=own_image)


def remove_copy(copy):
    """Destroy the copy's cluster; remove its containers, network and its own node image."""
    root = copy.root
    if any((root / ".vagrant/machines").glob("*/*/id")):  # Vagrant still knows a machine
        copy.invoke("cluster.destroy", timeout=300)
    for name in copy.containers():
        docker("rm", "--force", name, check=False)
    for name in copy.networks():
        docker("network", "rm", name, check=False)
    if copy.own_image:
        docker("image", "rm", "--force", copy.image, check=False)
    shutil.rmtree(root / "vagrant" / "image", ignore_errors=True)  # ~100 MB of packages


def remove_shared_image():
    """Remove the session's SHARED_IMAGE, if it was built and docker runs."""
    if shutil.which("docker"):
        subprocess.run(["docker", "image", "rm", "--force", SHARED_IMAGE], capture_output=True,
                       timeout=120)
