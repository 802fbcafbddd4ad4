"""A cluster of existing hosts listed in a JSON file, reached over SSH."""

from __future__ import annotations

import getpass
import os
from typing import cast

from ducttape.cluster.cluster import Cluster
from ducttape.cluster.node import Node
from ducttape import validate
from ducttape.errors import ConfigError
from ducttape.jsonfile import read_json
from ducttape.remote.host_keys import POLICIES, USER_KNOWN_HOSTS, KnownHosts
from ducttape.remote.ssh import KEEPALIVE_COUNT_MAX, KEEPALIVE_INTERVAL, SshAccount

KEEPALIVE_KEYS = {"keepalive_interval", "keepalive_count_max"}
"""Settable at the top level of a cluster file (every node) and per node (that node)."""
NODE_KEYS = {"name", "hostname", "port", "user", "key_file", "address", "scratch", "build_dir", "type"} | KEEPALIVE_KEYS
HOST_KEY_KEYS = {"known_hosts", "host_key_policy"}
"""Top level only: the known_hosts file of the cluster's nodes (default ~/.ssh/known_hosts) and
how host keys are checked against it (strict, accept-new or off; default strict)."""
TOP_KEYS = {"nodes"} | KEEPALIVE_KEYS | HOST_KEY_KEYS
DEFAULT_SCRATCH = "/mnt"
DEFAULT_BUILD_DIR = "/opt/ducttape/build"


class JsonCluster(Cluster):
    """Nodes from a cluster file: ``{"nodes": [{"name", "hostname", "port", "user", "key_file",
    "address", "scratch", "build_dir", "type"}, ...]}`` (only ``hostname`` is required; ``type``
    is a node type tests may ask for, e.g. ``broker``), with the SSH
    keepalive settings ``keepalive_interval`` / ``keepalive_count_max`` at the top level or per
    node, and ``known_hosts`` / ``host_key_policy`` at the top level (``known_hosts``)."""

    syntax = "json:FILE"

    @classmethod
    def from_arg(cls, arg: str, spec: str) -> "JsonCluster":
        if not arg:
            raise ConfigError(f"bad cluster {spec!r}: json needs a file, as in json:cluster.json")
        return cls(arg)

    def __init__(self, path: str):
        specs = load_node_specs(path)
        self.known_hosts = load_known_hosts(path)
        nodes = [_node(spec, path, i, self.known_hosts) for i, spec in enumerate(specs, 1)]
        super().__init__(nodes)
        self.path = path
        self.description = f"cluster in {path} ({len(nodes)} nodes)"

    def bigger_hint(self, n: int) -> str:
        return f"add nodes to {self.path}"


def load_node_specs(path: str) -> list[dict]:
    """Read and validate the node list of a cluster file; ConfigError names what is wrong."""
    data = read_json(path, "cluster file")
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not data["nodes"]:
        raise ConfigError(f'cluster file {path}: expected {{"nodes": [...]}} with at least one node')
    nodes: list = data["nodes"]
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"cluster file {path}: unknown top-level key {unknown[0]!r} (known: {', '.join(sorted(TOP_KEYS))})"
        )
    _check_keepalive(data, f"cluster file {path}")
    names = set()
    for i, spec in enumerate(nodes, 1):
        where = f"cluster file {path}, node {i}"
        if not isinstance(spec, dict):
            raise ConfigError(f'{where}: expected an object with at least "hostname"')
        unknown = sorted(set(spec) - NODE_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(NODE_KEYS))})")
        if not isinstance(spec.get("hostname"), str) or not spec["hostname"]:
            raise ConfigError(f'{where}: "hostname" is missing')
        _check_node(spec, where)
        name = spec.get("name", f"node{i}")
        if name in names:
            raise ConfigError(f"{where}: node name {name!r} is used twice")
        names.add(name)
    defaults = {k: data[k] for k in KEEPALIVE_KEYS if k in data}
    return [{**defaults, **spec} for spec in nodes]


def _check_node(spec: dict, where: str) -> None:
    """Every value of one node: names, hosts, port, folders, keepalives, key file."""
    for key in ("hostname", "address"):
        if key in spec:
            validate.host(where, key, spec[key])
    for key in ("name", "user", "type"):
        if key in spec:
            validate.name(where, key, spec[key])
    if "port" in spec:
        validate.port(where, "port", spec["port"])
    for key in ("scratch", "build_dir"):
        if key in spec:
            validate.node_folder(where, key, spec[key])
    _check_keepalive(spec, where)
    if "key_file" in spec:
        if not isinstance(spec["key_file"], str):
            raise validate.problem(where, "key_file", spec["key_file"], "is not a file name")
        if spec["key_file"] and not os.path.isfile(os.path.expanduser(spec["key_file"])):
            raise ConfigError(f"{where}: key file {spec['key_file']} does not exist")


def load_known_hosts(path: str) -> KnownHosts:
    """The host key settings of cluster file ``path`` (after ``load_node_specs`` checked it);
    a relative ``known_hosts`` is taken from the cluster file's folder."""
    data = cast(dict, read_json(path, "cluster file"))  # an object: load_node_specs checked it
    policy = data.get("host_key_policy", "strict")
    if policy not in POLICIES:
        raise ConfigError(f'cluster file {path}: "host_key_policy" is {policy!r}; use one of {", ".join(POLICIES)}')
    known = data.get("known_hosts", USER_KNOWN_HOSTS)
    if not isinstance(known, str) or not known:
        raise ConfigError(f'cluster file {path}: "known_hosts" must be the path of a known_hosts file')
    known = os.path.expanduser(known)
    return KnownHosts(os.path.join(os.path.dirname(os.path.abspath(path)), known), policy)


def _check_keepalive(spec: dict, where: str) -> None:
    if "keepalive_interval" in spec:
        validate.seconds(where, "keepalive_interval", spec["keepalive_interval"], zero_means="0 turns keepalives off")
    if "keepalive_count_max" in spec:
        validate.whole(where, "keepalive_count_max", spec["keepalive_count_max"], 1)


def _node(spec: dict, path: str, i: int, known_hosts: KnownHosts) -> Node:
    name = spec.get("name", f"node{i}")
    address = spec.get("address", spec["hostname"])
    key_file = os.path.expanduser(spec["key_file"]) if spec.get("key_file") else None
    account = SshAccount(
        name,
        spec["hostname"],
        user=spec.get("user", getpass.getuser()),
        port=spec.get("port", 22),
        key_file=key_file,
        address=address,
        keepalive_interval=spec.get("keepalive_interval", KEEPALIVE_INTERVAL),
        keepalive_count_max=spec.get("keepalive_count_max", KEEPALIVE_COUNT_MAX),
        known_hosts=known_hosts,
    )
    return Node(
        name,
        account,
        address,
        spec.get("scratch", DEFAULT_SCRATCH),
        spec.get("build_dir", DEFAULT_BUILD_DIR),
        spec.get("type", ""),
    )
