"""``--no-teardown``: what the last test left running, and ``invoke cluster.clean`` to end it.

The test's process skips its teardown and tells the runner the services it left; the runner
writes them into ``kept.json`` in the session folder (with the attempt's tag, which every
process the test started carries, and how to reach each node) and prints per node how to get
there and how to clean up. The session keeps the leases of those nodes (no other session takes
them meanwhile). ``clean`` stops those services from their recorded state (their logs are
collected into the test's folder then), ends every process that carries the tag, removes the
node folders a localhost cluster made for the session and releases the leases.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil

from ducttape.cluster import Node, load_cluster
from ducttape.cluster.lease import remove_ours
from ducttape.command_line import command
from ducttape.errors import ConfigError
from ducttape.remote import LocalAccount
from ducttape.remote.ssh import SshAccount
from ducttape.runner.process import stop_recorded, sweep

KEPT_FILE = "kept.json"


def reach(node: Node) -> str:
    """How a person gets onto ``node``: an ssh command, or this machine's folder."""
    account = node.account
    if not isinstance(account, SshAccount):
        return f"this machine ({node.address}), files in {node.scratch}"
    key = f" -i {shlex.quote(account.key_file)}" if account.key_file else ""
    user = f"{account.user}@" if account.user else ""
    return f"ssh -p {account.port}{key} {user}{account.hostname}  (files in {node.scratch})"


def record(
    session_path: str, test_id: str, tag: str, nodes: list[Node], services: list[dict], cluster: str, test_dir: str
) -> dict:
    """Write ``kept.json`` for the services ``services`` (their reported states) that test
    ``test_id`` (results in ``test_dir``) left on ``nodes`` of ``--cluster`` ``cluster``;
    return what it holds."""
    kept = {
        "test_id": test_id,
        "tag": tag,
        "cluster": cluster,
        "test_dir": test_dir,
        "nodes": [{"name": n.name, "reach": reach(n)} for n in nodes],
        "services": services,
        "folders": [],
    }
    _write(os.path.join(session_path, KEPT_FILE), kept)
    return kept


def add_folders(session_path: str, folders: list[str]) -> None:
    """Have ``clean`` also remove ``folders`` (what the cluster made for the session)."""
    _add(session_path, "folders", folders)


def add_leases(session_path: str, leases: list[dict]) -> None:
    """Have ``clean`` also remove the kept node leases ``leases`` (``Leases.keep``)."""
    _add(session_path, "leases", leases)


def _add(session_path: str, key: str, items: list) -> None:
    path = os.path.join(session_path, KEPT_FILE)
    with open(path) as f:
        kept = json.load(f)
    kept[key] = kept.get(key, []) + items
    _write(path, kept)


def _write(path: str, kept: dict) -> None:
    with open(f"{path}.tmp", "w") as f:
        json.dump(kept, f, indent=2)
        f.write("\n")
    os.replace(f"{path}.tmp", path)


def describe(kept: dict) -> str:
    """The console's note: what runs where, how to reach each node, how to clean up."""
    services = ", ".join(s["service_id"] for s in kept["services"]) or "no services (its processes only)"
    lines = [f"--no-teardown: {kept['test_id']} left {services} running"]
    lines += [f"    {n['name']}: {n['reach']}" for n in kept["nodes"]]
    lines.append(
        f"    when done: {command()} cluster.clean (stops them, collects their logs, ends the test's processes)"
    )
    return "\n".join(lines) + "\n"


def clean(results_root: str) -> list[str]:
    """End what the latest ``--no-teardown`` session left; return what was done, line by line.
    ConfigError when no session under ``results_root`` left anything."""
    session = os.path.realpath(os.path.join(results_root, "latest"))
    path = os.path.join(session, KEPT_FILE)
    if not os.path.exists(path):
        raise ConfigError(
            f"nothing to clean: the latest session ({session}) has no {KEPT_FILE} "
            "(it ran without --no-teardown, or was cleaned already)"
        )
    with open(path) as f:
        kept = json.load(f)
    cluster = load_cluster(kept["cluster"] or "localhost")
    done = []
    try:
        nodes = {n.name: n for n in cluster.nodes}
        missing = [n["name"] for n in kept["nodes"] if n["name"] not in nodes]
        if missing:
            raise ConfigError(f"{path}: nodes {', '.join(missing)} are not in the {cluster.description}")
        for state in reversed(kept["services"]):
            stop_recorded(state, nodes, kept["test_dir"])
            done.append(f"stopped {state['service_id']}")
        left = [nodes[n["name"]] for n in kept["nodes"]]
        unswept = sweep(left, kept["tag"])
        if unswept:
            raise ConfigError(
                f"could not make sure the test's processes ended on {', '.join(unswept)}: "
                f"is the node up? run `{command()} cluster.clean` again"
            )
        done.append(f"ended the test's processes on {', '.join(n.name for n in left)}")
        for lease in kept.get("leases", []):
            account = nodes[lease["node"]].account if lease["node"] else LocalAccount("localhost")
            remove_ours(account, lease["path"], lease["token"])
            done.append(f"released the lease {lease['path']}" + (f" on {lease['node']}" if lease["node"] else ""))
    finally:
        cluster.close()
    for folder in kept["folders"]:
        shutil.rmtree(folder, ignore_errors=True)
        done.append(f"removed {folder}")
    os.replace(path, os.path.join(session, f"{KEPT_FILE}.cleaned"))
    return done
