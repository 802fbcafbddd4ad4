"""What this checkout's EC2 cluster consists of, kept in ``.ec2/`` (git-ignored).

``state.json`` names the cluster and everything `cluster.up --aws` created, written *before* each
creating call and again after it, so an interrupted `up` leaves a state `destroy` can clean.
``cluster.json`` is the cluster file of the running workers (json backend format) that
``--cluster aws`` reads; ``known_hosts`` holds their host keys (the public halves of the keys `up`
made for them, kept in ``state.json``, under the addresses ssh reaches them at). ``clusters.json``
lists every cluster id made here, for ``cluster.reap``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ducttape.remote.host_keys import host_name, replace_hosts

STATE_DIR = ".ec2"


def state_dir(root) -> Path:
    return Path(root) / STATE_DIR


def cluster_file(root) -> Path:
    """The cluster file of the EC2 cluster of the checkout in ``root``."""
    return state_dir(root) / "cluster.json"


def known_hosts_file(root) -> Path:
    """The workers' host keys, written by ``write_known_hosts``."""
    return state_dir(root).resolve() / "known_hosts"


def write_known_hosts(root, state: dict, nodes: list[dict]) -> None:
    """Record, for the address ssh reaches each of ``nodes`` at, the host key its user data
    installs (the public keys in ``state["host_keys"]``, kept from the launch); the lines of
    other hosts stay."""
    keys = state.get("host_keys", {})
    replace_hosts(
        str(known_hosts_file(root)),
        {host_name(node["hostname"], node["port"]): [keys[node["name"]]] for node in nodes if node["name"] in keys},
    )


def load_state(root) -> dict | None:
    """The recorded cluster, or None when there is none."""
    path = state_dir(root) / "state.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def save_state(root, state: dict) -> None:
    """Record the cluster (and its id among ``clusters``, kept after a destroy)."""
    _write(state_dir(root) / "state.json", state)
    known = _recorded(root)
    if state["cluster_id"] not in known:
        _write(state_dir(root) / "clusters.json", {"clusters": sorted(known | {state["cluster_id"]})})


def clusters(root) -> set[str]:
    """The ids of every cluster `cluster.up --aws` made in this workspace (what `cluster.reap`
    may touch without --all)."""
    state = load_state(root)
    return _recorded(root) | ({state["cluster_id"]} if state else set())


def _recorded(root) -> set[str]:
    try:
        return set(json.loads((state_dir(root) / "clusters.json").read_text())["clusters"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return set()


def forget(root) -> None:
    """Remove the state, the cluster file and the host keys (after a destroy)."""
    for path in (state_dir(root) / "state.json", cluster_file(root), known_hosts_file(root)):
        path.unlink(missing_ok=True)


def write_cluster_file(root, nodes: list[dict]) -> None:
    """Write the cluster file of ``nodes``, whose host keys are checked strictly against
    ``known_hosts_file``."""
    _write(
        cluster_file(root), {"nodes": nodes, "known_hosts": str(known_hosts_file(root)), "host_key_policy": "strict"}
    )


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
