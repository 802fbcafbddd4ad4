"""Checks of the values users hand us in files (cluster files, Vagrantfile.local, ec2.yaml,
projects.yaml), shared by every loader.

Each check returns the value (converted where that is its job) or raises a ConfigError of one
line that names where the value came from (``where``: the file, and the node or project in it),
the key and the value, and says what is wanted. The rules are strict on purpose: these values
end up in shell commands and paths on machines that are not ours.
"""

from __future__ import annotations

import ipaddress
import math
import os
import posixpath
import re
from typing import TypeGuard

from ducttape.errors import ConfigError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""Names (nodes, clusters, projects, users): a letter or digit, then letters, digits, ``._-``."""
_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9._/+@-]*$")
SYSTEM_FOLDERS = frozenset(
    {
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/home",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/media",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/srv",
        "/sys",
        "/usr",
        "/var",
        "/snap",
        "/Users",
        "/usr/bin",
        "/usr/lib",
        "/usr/local",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/share",
        "/var/lib",
        "/var/log",
        "/var/run",
        "/var/tmp",
        "/var/cache",
        "/var/www",
    }
)
"""Folders that are never a node's scratch or build folder (their subfolders may be)."""
HOME_PARENTS = ("/home", "/Users")
"""A folder directly below one of these is somebody's home folder."""


def inside(folder: str, path: str) -> bool:
    """Whether ``path`` is ``folder`` or lies below it, once both are resolved (``..`` and
    symbolic links followed)."""
    folder, path = os.path.realpath(folder), os.path.realpath(path)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def plain_file_name(name: object) -> bool:
    """Whether ``name`` is one file name: not empty, no '/' (or NUL), not '.' or '..'."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def problem(where: str, key: str, value: object, wanted: str) -> ConfigError:
    """The one-line error for ``key`` = ``value`` in ``where`` that is not ``wanted``."""
    return ConfigError(f'{where}: "{key}" {value!r} {wanted}')


def name(where: str, key: str, value: object) -> str:
    """A name as NAME_RE has it (no '/', no leading '.' or '-', not empty)."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise problem(
            where, key, value, "is not a name: use letters, digits, '.', '_', '-', starting with a letter or digit"
        )
    return value


def host(where: str, key: str, value: object) -> str:
    """An IPv4/IPv6 address or a DNS name (letters, digits, '-' in dot-separated labels)."""
    if isinstance(value, str) and is_host(value):
        return value
    raise problem(where, key, value, "is not an IP address or a DNS name")


def is_host(value: str) -> bool:
    """Whether ``value`` is an IP address or a DNS name."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    labels = value[:-1].split(".") if value.endswith(".") else value.split(".")
    return 0 < len(value) <= 253 and all(_LABEL_RE.match(label) for label in labels)


def port(where: str, key: str, value: object) -> int:
    """A TCP port: a whole number from 1 to 65535 (true/false are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise problem(where, key, value, "is not a port: use a whole number from 1 to 65535")
    return value


def is_seconds(value: object, zero: bool = False) -> TypeGuard[float]:
    """Whether ``value`` is a finite number of seconds above 0 (or exactly 0 when ``zero``);
    true/false are not numbers here."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and (value > 0 or (zero and value == 0))
    )


def seconds(where: str, key: str, value: object, zero_means: str = "") -> float:
    """A finite number of seconds above 0 (or exactly 0 when ``zero_means`` says what 0 does)."""
    if is_seconds(value, zero=bool(zero_means)):
        return float(value)
    zero = f" ({zero_means})" if zero_means else ""
    raise problem(where, key, value, f"is not a number of seconds: use a finite number above 0{zero}")


def whole(where: str, key: str, value: object, minimum: int) -> int:
    """A whole number of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise problem(where, key, value, f"is not a whole number from {minimum}")
    return value


def node_folder(where: str, key: str, value: object) -> str:
    """A folder on a node that ducttape may fill and empty (``scratch``, ``build_dir``): an
    absolute, normalized path of plain characters that is not ``/``, a home folder or a system
    folder."""
    if not isinstance(value, str) or not _PATH_RE.match(value) or posixpath.normpath(value) != value:
        raise problem(
            where,
            key,
            value,
            "is not an absolute, normalized path of letters, digits and . _ - + @ / (e.g. /mnt/ducttape)",
        )
    if value == "/" or value in SYSTEM_FOLDERS or posixpath.dirname(value) in HOME_PARENTS:
        raise problem(
            where,
            key,
            value,
            "is / , a home folder or a system folder, which ducttape "
            "would fill and empty: use a folder of its own, e.g. "
            "/mnt/ducttape",
        )
    return value
