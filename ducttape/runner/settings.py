"""RunSettings: how a session runs its tests beyond which tests and where (the ``invoke test``
flags that the runner and each test's context read)."""

from __future__ import annotations

from dataclasses import dataclass

LOG_POLICIES = ("declared", "always", "failed")
"""``--logs``: ``declared`` (the default, ducktape's rule: after a pass only the logs a service
collects by default or the test marked, after a failure all), ``always`` (every declared log of
every test), ``failed`` (every log of a failed test, none of a passed one)."""


@dataclass(frozen=True)
class RunSettings:
    """The session-wide switches a test attempt obeys."""

    logs: str = "declared"
    """Which declared service logs are collected (LOG_POLICIES)."""
    compress: bool = False
    """Compress logs on the node before they are copied (kept as ``.gz`` files in the results)."""
    jvm_logs: bool = False
    """Unified JVM logging (gc, safepoint) and a heap dump on OutOfMemoryError for every JVM the
    product services and ducktape-style services start; the files are collected."""
    fail_bad_cluster_utilization: bool = False
    """Fail a test that never used all the nodes it declared."""
    exit_first: bool = False
    """Start no more tests after the first failure; the rest are NOT-RUN."""
    no_teardown: bool = False
    """Leave the services of the session's last test running (``invoke cluster.clean`` ends them)."""
