"""Where `invoke build` puts things, for the build itself and for the services that use its outputs.

The build folder is one self-contained tree that can be synced to other machines as it is::

    <build dir>/
        manifest.json          what was built: project, kind, ref or version, git SHA, build time
        logs/<name>.log        Maven (and git) output of the last build of each project
        <name>/                one folder per project:
            (git project)      the git checkout itself, with Maven's target/ folders inside
            (released project) libs/*.jar, bin/run-class, pom.xml (the generated one)

Nothing inside refers to an absolute path, so `<build dir>` may live at a different place on each
node (a node's ``build_dir`` in the cluster file).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from ducttape.errors import ConfigError
from ducttape.workspace import find_workspace

BUILD_DIR_ENV = "DUCTTAPE_BUILD_DIR"
LAUNCHER = "bin/run-class"
MANIFEST = "manifest.json"


def build_dir() -> Path:
    """The local build folder: ``$DUCTTAPE_BUILD_DIR`` if set, else the workspace's ``build/``."""
    override = os.environ.get(BUILD_DIR_ENV)
    return Path(override).resolve() if override else find_workspace().build_dir


def project_dir(name: str, root: Path | None = None) -> Path:
    """The folder of project ``name`` in the local build folder (or in ``root``)."""
    return (root or build_dir()) / name


def log_path(name: str, root: Path | None = None) -> Path:
    """The log file of the last build of project ``name``."""
    return (root or build_dir()) / "logs" / f"{name}.log"


def manifest_path(root: Path | None = None) -> Path:
    """The build manifest of the local build folder (or of ``root``)."""
    return (root or build_dir()) / MANIFEST


def launcher(name: str, node_build_dir: str = "") -> str:
    """Path of the ``run-class`` launcher of released project ``name`` under a node's build_dir.

    ``launcher("kafka", node.build_dir)`` gives e.g. ``/opt/ducttape/build/kafka/bin/run-class``;
    run it as ``<launcher> MAIN_CLASS ARGS...``. With no ``node_build_dir`` the path is relative to
    the build folder. Node paths are POSIX paths whatever the controlling machine is.
    """
    return posixpath.join(node_build_dir, name, LAUNCHER) if node_build_dir else posixpath.join(name, LAUNCHER)


def node_project_dir(name: str, node_build_dir: str) -> str:
    """Folder of project ``name`` under a node's build_dir (e.g. a git project's checkout)."""
    return posixpath.join(node_build_dir, name)


def project_of(path: str, root: Path | None = None) -> str:
    """The project whose folder in the local build folder (or in ``root``) holds file ``path``
    (e.g. ``kafka-dev`` for kafkatest's modules), or ''."""
    try:
        base = (root or build_dir()).resolve()
    except ConfigError:  # outside any workspace: no build folder
        return ""
    try:
        rel = Path(path).resolve().relative_to(base)
    except ValueError:
        return ""
    return rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] != "logs" else ""
