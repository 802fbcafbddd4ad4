"""Running the Java programs that ``invoke build`` put in a node's build folder."""

from __future__ import annotations

import re
import shlex

from ducttape.build import layout, manifest
from ducttape.cluster import Node
from ducttape.services import Service

_STACK_FRAME = re.compile(r"^\s+at |^\s*\.\.\. \d+ (more|common frames omitted)")

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


def summary(output: str, lines: int = 6) -> str:
    """The last ``lines`` lines of a JVM's output without its stack frames, joined with " | "
    (what an exception says, not where it was thrown)."""
    kept = [line.strip() for line in output.splitlines() if line.strip() and not _STACK_FRAME.match(line)]
    return " | ".join(kept[-lines:])


def error_lines(service: Service, node: Node, lines: int = 3, log: str = "output") -> list[str]:
    """``log_errors`` as a list of lines."""
    errors = log_errors(service, node, lines, log)
    return errors.split(" | ") if errors else []


def log_errors(service: Service, node: Node, lines: int = 8, log: str = "output") -> str:
    """The first ERROR or FATAL entries of a Java service's log (log4j layout ``[time] LEVEL
    message``) with their exception lines, stack frames and repeats left out, joined with
    " | "; '' if there are none. The first errors say why a server gave up; the lines that
    end its log are its shutdown."""
    path = service.path(node, service.logs[log])
    text = node.account.ssh_output(
        f"grep -E -A 40 '^\\[[^]]*\\] (ERROR|FATAL) ' {shlex.quote(path)} 2>/dev/null | head -n 2000",
        allow_fail=True,
        timeout=30,
    )
    kept: list[str] = []
    for line in text.splitlines():
        entry = line.startswith("[")
        if (
            line == "--"
            or _STACK_FRAME.match(line)
            or not line.strip()
            or (entry and not re.match(r"^\[[^]]*\] (ERROR|FATAL) ", line))
        ):
            continue
        said = line.strip().removeprefix("Caused by: ")
        if said not in kept:
            kept.append(said)
        if len(kept) == lines:
            break
    return " | ".join(kept)
