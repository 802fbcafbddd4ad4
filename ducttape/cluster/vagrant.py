"""The Vagrant cluster: the running workers of the workspace (``--cluster vagrant``)."""

from __future__ import annotations

from pathlib import Path

from ducttape.cluster.cluster import no_argument
from ducttape.cluster.json_file import JsonCluster
from ducttape.command_line import command
from ducttape.vagrant.cluster_file import cluster_file, load_vagrant_nodes
from ducttape.workspace import find_workspace


class VagrantCluster(JsonCluster):
    """The workers ``invoke cluster.up`` brought up, read from the cached cluster file (asking
    Vagrant only when its machines changed); ClusterError when none is running."""

    syntax = "vagrant"

    @classmethod
    def from_arg(cls, arg: str, spec: str) -> VagrantCluster:
        no_argument(arg, spec)
        return cls()

    def __init__(self, root: Path | None = None):  # the workspace (default: the current one)
        root = root or find_workspace().root
        load_vagrant_nodes(root)
        super().__init__(str(cluster_file(root)))
        self.description = f"vagrant cluster ({len(self.nodes)} workers)"

    def bigger_hint(self, n: int) -> str:
        return f"set num_workers = {n} in Vagrantfile.local and run `{command()} cluster.up`"
