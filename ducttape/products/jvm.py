"""Running the Java programs that ``invoke build`` put in a node's build folder."""

from __future__ import annotations

import shlex

from ducttape.build import layout, manifest
from ducttape.cluster import Node

TOOL_HEAP = "256m"
TOOL_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
"""For short-lived admin tools: start fast, never mind peak speed."""


def command(node: Node, project: str, role: str, *args: object, java_opts: str = "") -> str:
    """Shell command that runs the main class of ``role`` of built ``project`` on ``node``
    through the project's launcher, with ``JAVA_OPTS`` set to ``java_opts``."""
    launcher = layout.launcher(project, node.build_dir)
    words = [launcher, manifest.main_class(project, role), *(str(a) for a in args)]
    return f"env JAVA_OPTS={shlex.quote(java_opts)} " + " ".join(shlex.quote(w) for w in words)


def opts(heap: str, *extra: str) -> str:
    """``JAVA_OPTS`` with a heap limit and further options."""
    return " ".join([f"-Xmx{heap}", *extra])


def java(*args: object, java_opts: str = "") -> str:
    """Shell command running the node's ``java`` (``$JAVA_HOME/bin/java`` if set, as the build
    launchers do) with ``args``, e.g. a single-file source program."""
    words = " ".join(shlex.quote(str(a)) for a in [*java_opts.split(), *args])
    return f'"${{JAVA_HOME:+$JAVA_HOME/bin/}}java" {words}'
