"""The workspace: the folder of a project that tests its system with ducttape.

A team installs ducttape with pip and keeps its own things in its own repository: ``projects.yaml``
(what ``ducttape build`` builds), its scenarios in ``tests/``, its cluster settings
(``Vagrantfile.local``, ``ec2.yaml``) and what ducttape makes for it (``build/``, ``results/``,
``.vagrant/``, ``.ec2/``, ``vagrant/image/``). That folder is the workspace; ducttape finds it,
like git finds a repository, as the current folder or the nearest parent holding ``projects.yaml``,
unless ``--workspace DIR`` or ``$DUCTTAPE_WORKSPACE`` names it. ducttape's own checkout is a
workspace too. Nothing is ever written into the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path

from ducttape.errors import ConfigError

WORKSPACE_ENV = "DUCTTAPE_WORKSPACE"
MARKER = "projects.yaml"
PACKAGED_VAGRANT = Path(__file__).resolve().parent / "vagrant" / "files"
"""The Vagrantfile and node provisioning script that ship with ducttape (used when the workspace
has none of its own)."""


class Workspace:
    """The paths of one workspace (see the module's docstring); ``root`` is its folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    @property
    def projects_file(self) -> Path:
        """``projects.yaml``: what ``build`` builds."""
        return self.root / MARKER

    @property
    def build_dir(self) -> Path:
        """Where ``build`` puts its outputs: ``build/`` (``$DUCTTAPE_BUILD_DIR`` overrides it for
        the commands: `ducttape.build.layout.build_dir`)."""
        return self.root / "build"

    @property
    def results_dir(self) -> Path:
        """Where test sessions write their results: ``results/``."""
        return self.root / "results"

    @property
    def scenarios_dir(self) -> Path:
        """The workspace's own scenarios, selected by name (``test NAME``): ``tests/``."""
        return self.root / "tests"

    @property
    def vagrantfile_dir(self) -> Path:
        """The folder of the Vagrantfile in use: the workspace's own, else ducttape's."""
        return self.root if (self.root / "Vagrantfile").exists() else PACKAGED_VAGRANT

    @property
    def vagrantfile_local(self) -> Path:
        """The cluster's settings for Vagrant: ``Vagrantfile.local``."""
        return self.root / "Vagrantfile.local"

    @property
    def vagrant_dir(self) -> Path:
        """Vagrant's state of the workspace's machines: ``.vagrant/``."""
        return self.root / ".vagrant"

    @property
    def node_script(self) -> Path:
        """The script that provisions a node: the workspace's ``vagrant/base.sh``, else ducttape's."""
        own = self.root / "vagrant" / "base.sh"
        return own if own.exists() else PACKAGED_VAGRANT / "base.sh"

    @property
    def node_image_dir(self) -> Path:
        """The node key, the package cache and the root filesystem of the node image."""
        return self.root / "vagrant" / "image"

    @property
    def ec2_file(self) -> Path:
        """The EC2 cluster's settings: ``ec2.yaml``."""
        return self.root / "ec2.yaml"

    @property
    def ec2_dir(self) -> Path:
        """The EC2 cluster's state (instances, key, cluster file): ``.ec2/``."""
        return self.root / ".ec2"


def find_workspace(start: str | os.PathLike | None = None) -> Workspace:
    """The workspace named by ``$DUCTTAPE_WORKSPACE``, else the one holding ``start`` (default: the
    current folder); ConfigError, naming ``ducttape init``, when there is none."""
    named = os.environ.get(WORKSPACE_ENV)
    if named:
        root = Path(named).expanduser()
        if not (root / MARKER).is_file():
            raise ConfigError(
                f"{WORKSPACE_ENV}={named} is no ducttape workspace (it has no {MARKER}): "
                f"point it at one, or run `ducttape init {named}` to make one"
            )
        return Workspace(root)
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return Workspace(folder)
    raise ConfigError(
        f"{here} is in no ducttape workspace (no {MARKER} in it or its parents): "
        f"run `ducttape init` to make one here, or cd into one"
    )
