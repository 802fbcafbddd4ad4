"""The EC2 cluster: the running workers of `invoke cluster.up --aws` (``--cluster aws``)."""

from __future__ import annotations

import json
from pathlib import Path

from ducttape.aws.state import cluster_file
from ducttape.cluster.cluster import no_argument
from ducttape.cluster.json_file import JsonCluster
from ducttape.command_line import command
from ducttape.errors import ClusterError
from ducttape.workspace import find_workspace


class EC2Cluster(JsonCluster):
    """The workers from the cluster file `cluster.up --aws` writes (no AWS call); ClusterError
    when none is running."""

    syntax = "aws"

    @classmethod
    def from_arg(cls, arg: str, spec: str) -> EC2Cluster:
        no_argument(arg, spec)
        return cls()

    def __init__(self, root: Path | None = None):  # the workspace (default: the current one)
        root = root or find_workspace().root
        path = cluster_file(root)
        if not path.exists() or not _has_nodes(path):
            raise ClusterError(
                f"no EC2 workers running for {Path(root).resolve()}: run "
                f"`{command()} cluster.up --aws` (num_workers in ec2.yaml says how many)"
            )
        super().__init__(str(path))
        self.description = f"aws cluster ({len(self.nodes)} workers)"

    def bigger_hint(self, n: int) -> str:
        return f"set num_workers: {n} in ec2.yaml and run `{command()} cluster.up --aws`"


def _has_nodes(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("nodes"))
    except ValueError:
        return True  # let the json backend say what is wrong with it
