"""``--jvm-logs``: JVM diagnostics for every JVM a test starts on its nodes.

While the test runs, every command on its nodes exports ``JDK_JAVA_OPTIONS`` (read by every
``java`` launcher since JDK 9, so it reaches the JVMs of product services, of ducktape-style
services and of tools alike) with unified logging of gc and safepoints, a heap dump on
OutOfMemoryError and the fatal error log, each file named after the JVM's pid, in a folder of
the node's scratch. After the test the folder is collected into ``<test>/jvm-logs/<node>/`` (as
the log policy says) and removed.
"""

from __future__ import annotations

import posixpath
import shlex

from ducttape.cluster import Node

FOLDER = "jvm-logs"
"""The folder under a node's scratch, and the owner of the collected files in the results."""
VARIABLE = "JDK_JAVA_OPTIONS"
SETUP_TIMEOUT = 60.0


def folder(node: Node) -> str:
    """Where the JVMs on ``node`` write their diagnostics."""
    return posixpath.join(node.scratch, FOLDER)


def options(where: str) -> str:
    """The JVM options that write diagnostics into folder ``where``."""
    decorations = "time,uptime,level,tags"
    return " ".join(
        [
            f"-Xlog:gc*=info:file={where}/gc-%p.log:{decorations}",
            f"-Xlog:safepoint=info:file={where}/safepoint-%p.log:{decorations}",
            "-XX:+HeapDumpOnOutOfMemoryError",
            f"-XX:HeapDumpPath={where}",
            f"-XX:ErrorFile={where}/hs_err_pid%p.log",
        ]
    )


def enable(nodes: list[Node]) -> None:
    """Make each node's folder and have every later command on it export the options."""
    for node in nodes:
        where = folder(node)
        node.account.ssh(f"mkdir -p {shlex.quote(where)}", timeout=SETUP_TIMEOUT)
        node.account.environment[VARIABLE] = options(where)


def collect(context, nodes: list[Node]) -> None:
    """Collect each node's folder through ``context`` (its log policy) and remove it there."""
    for node in nodes:
        if VARIABLE not in node.account.environment:
            continue
        del node.account.environment[VARIABLE]
        where = folder(node)
        context.collect(node, FOLDER, {FOLDER: (where, True)})
        node.account.ssh(f"rm -rf {shlex.quote(where)}", allow_fail=True, timeout=SETUP_TIMEOUT)
