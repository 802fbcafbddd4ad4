"""The cluster file of a Vagrant cluster: its running workers as nodes for the `vagrant` backend.

Made from `vagrant status` and `vagrant ssh-config` (a real ssh_config parser: every Host section,
HostName and Port honored), written in the json backend's format to CLUSTER_FILE and reused while
nothing under ``.vagrant/machines`` changed, so a test run does not pay Vagrant's seconds per call.
`invoke cluster.up|halt|destroy|status` rewrite it.
"""

import json
import socket
from pathlib import Path

import paramiko

from ducttape.command_line import command
from ducttape.errors import ClusterError
from ducttape.remote.host_keys import host_name, replace_hosts
from ducttape.vagrant.machines import PRIVATE_NETWORK_PROVIDERS, Machines, created_provider
from ducttape.vagrant.proc import run

CLUSTER_FILE = ".vagrant/ducttape-cluster.json"
KNOWN_HOSTS_FILE = ".vagrant/ducttape-known_hosts"
"""The workers' host keys, recorded by `cluster.up` (the cluster file points at it; strict)."""


def cluster_file(root):
    """Path of the cluster file of the Vagrant cluster in ``root``."""
    return Path(root).resolve() / CLUSTER_FILE


def known_hosts_file(root):
    """Path of the known_hosts file of the Vagrant cluster in ``root``."""
    return Path(root).resolve() / KNOWN_HOSTS_FILE


def load_vagrant_nodes(root, refresh=False):
    """The running workers of the Vagrant cluster in ``root`` as cluster-file node dicts.

    Reads CLUSTER_FILE unless ``refresh`` is true or Vagrant changed the machines since it was
    written. Raises ClusterError when no worker is running.
    """
    path = cluster_file(root)
    if refresh or not _is_fresh(path):
        machines = Machines(root, provider=created_provider(root) or "docker")
        machines.check_tools()
        nodes = write_cluster_file(machines)
    else:
        nodes = json.loads(path.read_text())["nodes"]
    if not nodes:
        raise ClusterError(
            f"0 workers running in the Vagrant cluster at {Path(root).resolve()}: "
            f"run `{command()} cluster.up` (num_workers in Vagrantfile.local says how many)"
        )
    return nodes


def write_cluster_file(machines, statuses=None):
    """Ask Vagrant for the running workers, write CLUSTER_FILE, return its nodes.

    ``statuses`` (from `Machines.status`) saves a `vagrant status` call.
    """
    statuses = statuses if statuses is not None else machines.status()
    running = {status.name: status.provider for status in statuses if status.state == "running"}
    nodes = []
    if running:
        nodes = nodes_from_ssh_config(machines.ssh_config(list(running)), machines.layout(), running)
    path = cluster_file(machines.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {"nodes": nodes, "known_hosts": str(known_hosts_file(machines.root)), "host_key_policy": "strict"}, indent=2
        )
        + "\n"
    )
    tmp.replace(path)
    return nodes


def record_host_keys(machines, nodes):
    """Record the host keys of the running workers ``nodes`` in the cluster's known_hosts file,
    replacing what it had for them (a worker made anew has new keys).

    On docker the keys are read from each container's /etc/ssh through `docker exec`; on
    other providers they are asked of the worker's sshd over its forwarded port on this
    machine, right after `vagrant up`: neither path leaves this machine.
    """
    keys = {}
    for node in nodes:
        host = host_name(node["hostname"], node["port"])
        if machines.provider == "docker":
            cid = (machines.root / ".vagrant/machines" / node["name"] / "docker/id").read_text().strip()
            found = run(
                ["docker", "exec", cid, "sh", "-c", "cat /etc/ssh/ssh_host_*_key.pub"],
                timeout=30,
                what=f"reading {node['name']}'s host keys",
            ).stdout
            keys[host] = [" ".join(line.split()[:2]) for line in found.splitlines() if line.strip()]
        else:
            keys[host] = [_offered_key(node)]
    replace_hosts(str(known_hosts_file(machines.root)), keys)


def _offered_key(node):
    """``TYPE BASE64`` of the host key the node's sshd shows."""
    try:
        with socket.create_connection((node["hostname"], node["port"]), timeout=15) as sock:
            transport = paramiko.Transport(sock)
            try:
                transport.start_client(timeout=15)
                key = transport.get_remote_server_key()
            finally:
                transport.close()
    except (OSError, paramiko.SSHException) as err:
        raise ClusterError(
            f"cannot read {node['name']}'s host key at {node['hostname']}:{node['port']}: {err}"
        ) from None
    return f"{key.get_name()} {key.get_base64()}"


def nodes_from_ssh_config(text, layout, providers):
    """Node dicts from `vagrant ssh-config` output and the Vagrantfile's layout.

    ``providers`` maps each running worker to its provider. ``address`` is the worker's
    private-network address on docker and virtualbox, else the host ssh reaches it at.
    """
    config = paramiko.SSHConfig.from_text(text)
    known = config.get_hostnames()
    workers = {w["name"]: w for w in layout["workers"]}
    nodes = []
    for name, provider in providers.items():
        if name not in known:
            raise ClusterError(
                f"`vagrant ssh-config` says nothing about {name}: run `{command()} cluster.status` to see its state"
            )
        host = config.lookup(name)
        node = {
            "name": name,
            "hostname": host["hostname"],
            "port": int(host.get("port", 22)),
            "user": host.get("user", "vagrant"),
            "address": host["hostname"],
            "scratch": layout["scratch"],
            "build_dir": layout["build_dir"],
        }
        if host.get("identityfile"):
            node["key_file"] = str(Path(host["identityfile"][0]).expanduser())
        if provider in PRIVATE_NETWORK_PROVIDERS:
            node["address"] = workers[name]["address"]
        if workers[name].get("type"):
            node["type"] = workers[name]["type"]
        nodes.append(node)
    return nodes


def _is_fresh(path):
    """True if ``path`` exists and is newer than everything Vagrant keeps about its machines."""
    if not path.exists():
        return False
    written = path.stat().st_mtime
    machines_dir = path.parent / "machines"
    entries = [machines_dir, *machines_dir.rglob("*")] if machines_dir.exists() else []
    return all(entry.stat().st_mtime <= written for entry in entries)
