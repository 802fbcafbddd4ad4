"""The build manifest: what is in the build folder, written by every `invoke build`.

``manifest.json`` maps each project name to an entry::

    {"name": "kafka", "kind": "released", "version": "4.1.1", "ref": null, "git_sha": null,
     "artifacts": [...], "main_classes": {...}, "built_at": "2026-11-28T04:30:00Z",
     "status": "ok", "fingerprint": "..."}

Git projects carry ``ref`` (as pinned) and ``git_sha`` (what was built) instead of a version.
Local projects (kind ``local``) carry ``path`` (as in projects.yaml), ``version`` (from their
pom.xml), ``main_classes`` and ``source_hash`` (what was built).
``status`` is ``ok`` or ``failed`` (a git project whose last build failed in its checkout).
The test runner copies this file into each session's results.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ducttape.build import layout
from ducttape.command_line import command
from ducttape.errors import ConfigError

FORMAT = 1


def read(root: Path | None = None) -> dict[str, dict]:
    """Entries of the manifest of the build folder (or of ``root``) by project; {} if none yet."""
    path = layout.manifest_path(root)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: unreadable build manifest ({e}); delete it and run `{command()} build`") from None
    return doc.get("projects", {})


def write(entries: dict[str, dict], root: Path | None = None) -> Path:
    """Replace the manifest with ``entries``, atomically (a reader never sees half a file)."""
    path = layout.manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "projects": dict(sorted(entries.items()))}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-", suffix=".json")
    os.fchmod(fd, 0o644)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def main_class(project: str, role: str, root: Path | None = None) -> str:
    """The main class that ``project`` (released or local) lists for ``role`` (e.g. "kafka", "broker").

    Read from the manifest, i.e. from what was built; raises ConfigError if it is not built or
    has no such role.
    """
    entry = read(root).get(project)
    if not entry or entry.get("status") != "ok":
        where = layout.build_dir() if root is None else root
        raise ConfigError(f"project '{project}' is not built in {where}; run `{command()} build`")
    classes = entry.get("main_classes") or {}
    if role not in classes:
        raise ConfigError(f"project '{project}' has no main class for '{role}' (has: {', '.join(classes) or 'none'})")
    return classes[role]
