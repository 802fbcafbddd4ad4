"""``ducttape init [DIR]``: a starter workspace for a team's own project.

It writes ``projects.yaml`` (ZooKeeper from Maven Central), ``tests/`` with one scenario of a
service of the team's own, the examples of the cluster settings and a ``.gitignore`` for what
ducttape makes. A file that exists is never changed: run again, it says what it kept.
"""

from __future__ import annotations

from pathlib import Path

from invoke import task

from ducttape.cli import user_errors
from ducttape.errors import ConfigError
from ducttape.workspace import MARKER

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent
STARTER = {  # path in the workspace: the file ducttape ships
    MARKER: HERE / "projects.yaml",
    ".gitignore": HERE / "gitignore",
    "tests/zookeeper_test.py": HERE / "tests" / "zookeeper_test.py",
    "Vagrantfile.local.example": PACKAGE / "vagrant" / "files" / "Vagrantfile.local.example",
    "ec2.yaml.example": PACKAGE / "aws" / "ec2.yaml.example",
}


def write_starter(folder: Path) -> tuple[list[str], list[str]]:
    """Write the starter files that ``folder`` lacks; return (written, kept) as relative paths."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder: name a folder for the workspace")
    written, kept = [], []
    for name, source in STARTER.items():
        target = folder / name
        if target.exists() or target.is_symlink():
            kept.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.ducttape-init")
        temporary.write_bytes(source.read_bytes())
        temporary.rename(target)  # a complete file or none
        written.append(name)
    return written, kept


@task(
    help={
        "folder": "the workspace's folder (default: the current one; made if missing); `ducttape init DIR` names it too"
    }
)
def init(c, folder="."):
    """Make a starter workspace: projects.yaml, tests/, cluster setting examples, .gitignore."""
    with user_errors():
        root = Path(folder).expanduser().resolve()
        written, kept = write_starter(root)
    for name in written:
        print(f"init: wrote {root / name}")
    if kept:
        print(f"init: kept {', '.join(kept)}: they exist already, nothing in them changed")
    if written:
        print(f"init: workspace {root}; next: cd {folder} && ducttape build && ducttape test tests/")
    else:
        print(f"init: {root} is a workspace already; nothing written")
