"""The settings of an EC2 cluster: ``ec2.yaml`` at the repository root (git-ignored).

Every key is optional except ``num_workers``; unknown keys, wrong types and impossible values are
ConfigErrors naming the file and the key. ``ec2.yaml.example`` documents each key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
from pathlib import Path

import yaml

from ducttape import validate
from ducttape.errors import ConfigError

SETTINGS_FILE = "ec2.yaml"
DEBIAN_OWNER = "136693071363"  # the Debian cloud team's AWS account (https://wiki.debian.org/Cloud/AmazonEC2Image)
ROUTES = ("public", "private")
WIDEST_SSH_FROM = {4: 16, 6: 48}
"""The shortest ssh_from prefix (IPv4, IPv6) taken without ``ssh_from_anywhere: true``."""


@dataclasses.dataclass(frozen=True)
class EC2Settings:
    """One EC2 cluster's settings; the defaults are what `ec2.yaml.example` documents."""

    num_workers: int
    region: str | None = None  # None: boto3's configured region
    instance_type: str = "m5.large"
    ami: str | None = None  # None: newest image named ami_name owned by ami_owner
    ami_owner: str = DEBIAN_OWNER
    ami_name: str = "debian-12-amd64-*"
    key_file: str = "~/.ssh/id_ed25519"  # private key the driver logs in with
    key_pair: str | None = None  # None: import key_file's public key for the cluster
    security_groups: tuple = ()  # empty: create one for the cluster
    ssh_from: str = "auto"  # CIDR allowed to ssh into a created group
    ssh_from_anywhere: bool = False  # true: ssh_from may be wider than WIDEST_SSH_FROM
    subnet_id: str | None = None  # None: the region's default VPC
    associate_public_ip: bool = True
    user: str = "admin"  # the AMI's login user (Debian: admin)
    cluster_name: str = "ducttape"
    expiry_hours: float = 8.0
    scratch: str = "/mnt"
    build_dir: str = "/opt/ducttape/build"
    ssh_route: str = "public"
    ssh_timeout: float = 600.0
    launch_timeout: float = 600.0
    node_types: dict = dataclasses.field(default_factory=dict)
    """Node types of the first workers, in order: type -> {count, instance_type (default:
    ``instance_type``)}."""

    @property
    def key_path(self) -> Path:
        return Path(os.path.expanduser(self.key_file))

    def worker_type(self, index: int) -> str:
        """The node type of worker ``index`` (from 1), '' if it has none."""
        types = [name for name, spec in self.node_types.items() for _ in range(spec["count"])]
        return types[index - 1] if index <= len(types) else ""

    def instance_type_of(self, index: int) -> str:
        """The EC2 instance type of worker ``index``: its node type's, else ``instance_type``."""
        node_type = self.worker_type(index)
        return (self.node_types[node_type].get("instance_type") if node_type else None) or self.instance_type


_TYPES = {field.name: field.type for field in dataclasses.fields(EC2Settings)}


def settings_file(root) -> Path:
    """Path of the settings file of the checkout in ``root``."""
    return Path(root) / SETTINGS_FILE


def load_settings(root) -> EC2Settings:
    """Read and check ``ec2.yaml`` in ``root``; ConfigError (one line) when anything is wrong."""
    path = settings_file(root)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"no {path}: copy ec2.yaml.example to {SETTINGS_FILE} and set num_workers (and key_file)"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where} is not valid YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected `key: value` lines, starting with `num_workers: 3`")
    unknown = sorted(set(data) - set(_TYPES))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(_TYPES))})")
    values = {key: _checked(path, key, value) for key, value in data.items()}
    if "num_workers" not in values:
        raise ConfigError(f"{path}: num_workers is not set: set e.g. `num_workers: 3`")
    settings = EC2Settings(**values)
    _check_values(path, settings)
    return settings


def _checked(path, key, value):
    kind = _TYPES[key]
    where = f"{path}: {key}"
    if value is None and "None" in kind:
        return None
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, not {value!r}")
        value = float(value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
    elif kind == "dict":
        value = _node_types(where, value)
    elif kind == "tuple":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of names, e.g. [sg-0123abcd]")
        value = tuple(value)
    elif not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string, not {value!r}")
    return value


def _node_types(where: str, value) -> dict:
    """``node_types`` as {type: {"count": N, "instance_type": str or None}}."""
    wanted = "must map node types to {count: N, instance_type: TYPE}, e.g. {broker: {count: 3}}"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} {wanted}, not {value!r}")
    checked = {}
    for name, spec in value.items():
        validate.name(where, "node type", name)
        if not isinstance(spec, dict) or set(spec) - {"count", "instance_type"} or "count" not in spec:
            raise ConfigError(f"{where}: {name} {wanted}")
        validate.whole(f"{where}: {name}", "count", spec["count"], 1)
        kind = spec.get("instance_type")
        if kind is not None and (not isinstance(kind, str) or not kind):
            raise ConfigError(f"{where}: {name}: instance_type must be a non-empty string, not {kind!r}")
        checked[name] = {"count": spec["count"], "instance_type": kind}
    return checked


def _check_values(path, s: EC2Settings):
    if s.num_workers < 1:
        raise ConfigError(f"{path}: num_workers is {s.num_workers}: a cluster needs at least 1 worker")
    typed = sum(spec["count"] for spec in s.node_types.values())
    if typed > s.num_workers:
        raise ConfigError(f"{path}: node_types asks for {typed} typed workers but num_workers is {s.num_workers}")
    for key in ("expiry_hours", "ssh_timeout", "launch_timeout"):
        if not math.isfinite(getattr(s, key)) or getattr(s, key) <= 0:
            raise ConfigError(f"{path}: {key} must be a finite number above 0, not {getattr(s, key)!r}")
    validate.name(str(path), "cluster_name", s.cluster_name)
    validate.name(str(path), "user", s.user)
    if s.ssh_from != "auto":
        try:
            network = ipaddress.ip_network(s.ssh_from)
        except ValueError:
            raise ConfigError(
                f"{path}: ssh_from {s.ssh_from!r} is not a CIDR such as 203.0.113.7/32 (or `auto`)"
            ) from None
        widest = WIDEST_SSH_FROM[network.version]
        if network.prefixlen < widest and not s.ssh_from_anywhere:
            raise ConfigError(
                f"{path}: ssh_from {s.ssh_from} lets {network.num_addresses:,} "
                f"addresses try to log in: narrow it to a /{widest} or less "
                "(e.g. your own address/32), or add `ssh_from_anywhere: true`"
            )
    if s.ssh_route not in ROUTES:
        try:
            s.ssh_route.format(
                name="worker1", index=1, private_ip="10.0.0.1", public_ip="203.0.113.1", public_dns="ec2-host"
            )
        except (KeyError, IndexError, ValueError) as err:
            raise ConfigError(
                f"{path}: ssh_route {s.ssh_route!r} is neither public, private nor "
                f"a HOST[:PORT] template with {{name}}, {{index}}, {{private_ip}}, "
                f"{{public_ip}} or {{public_dns}} ({err})"
            ) from None
    for key in ("scratch", "build_dir"):
        validate.node_folder(str(path), key, getattr(s, key))
