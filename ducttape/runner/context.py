"""TestContext: what the runner hands one test attempt, and the registry of its services."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Callable

from ducttape import secret
from ducttape.cluster import Cluster, Node
from ducttape.remote.errors import UnsafePathError
from ducttape.validate import inside

if TYPE_CHECKING:
    from ducttape.services.service import Service

log = logging.getLogger("ducttape.runner")
Recorder = Callable[[str, object], None]
"""Told ("started", state) when a service takes nodes and ("stopped", service_id) when it gives
them back; the runner sends both to its own process, so it can stop what a killed test left."""

_active: "TestContext | None" = None


def current() -> "TestContext | None":
    """The context of the test running in this process (None outside a test)."""
    return _active


class TestContext:
    """One test attempt: its nodes (``cluster``, a view of the session's cluster), the services
    created for it in creation order, the session's parameters, the case's own parameters
    (``case``: the arguments of a parametrized test method), its results folder and logger.

    Services register with the context active when they are made (``current()``). Teardown
    (``teardown()``, run by the runner, pass or fail) stops every service still holding nodes in
    reverse order of creation; a service's ``stop()`` collects its declared logs into
    ``results_dir`` before it cleans its nodes. Outside the runner, ``with TestContext(cluster)``
    gives a script the same registry and teardown.
    """

    __test__ = False  # not a pytest class

    def __init__(self, cluster: Cluster, results_dir: str | None = None, params: dict | None = None,
                 test_id: str = "", logger: logging.Logger | None = None,
                 recorder: Recorder | None = None, case: dict | None = None):
        self.cluster = cluster
        self.results_dir = results_dir
        self.params = dict(params or {})
        self.case = dict(case or {})
        self.test_id = test_id
        self.logger = logger or logging.getLogger("ducttape.test")
        self.services: list["Service"] = []
        self.builds: list[str] = []
        """The build projects the test's services ran from (``Service.builds``), in first use order."""
        self.versions: dict[str, str] = {}
        """Versions of software the test installed itself (``record_version``)."""
        self._record = recorder

    def __enter__(self) -> "TestContext":
        self.activate()
        return self

    def __exit__(self, *exc) -> None:
        try:
            errors = self.teardown()
        finally:
            self.deactivate()
        if errors and exc[0] is None:
            raise errors[0]

    def activate(self) -> None:
        """Make this the context that new services register with."""
        global _active
        _active = self

    def deactivate(self) -> None:
        """Stop being the context new services register with (if it still is)."""
        global _active
        if _active is self:
            _active = None

    # -- called by services ---------------------------------------------------------------------

    def register(self, service: "Service") -> str:
        """Remember ``service`` (in creation order); return its id, ``<Class>-<n>``."""
        n = 1 + sum(type(s) is type(service) for s in self.services)
        self.services.append(service)
        return f"{type(service).__name__}-{n}"

    def started(self, service: "Service") -> None:
        """Told by ``service`` when it has taken its nodes (passed on to the runner)."""
        if self._record:
            self._record("started", service.state())

    def stopped(self, service: "Service") -> None:
        """Told by ``service`` when it has given its nodes back (passed on to the runner)."""
        if self._record:
            self._record("stopped", service.service_id)

    def use_builds(self, *projects: str) -> None:
        """Count build projects (projects.yaml names) as used by this test: the reports name
        the builds its services used, not every project of the build folder."""
        new = [p for p in projects if p not in self.builds]
        if new:
            self.builds += new
            self._tell_uses()

    def record_version(self, name: str, version: str) -> None:
        """Record the version of software the test installed itself (``record_version("etcd",
        "3.4.23")``); the reports show it beside the builds used."""
        self.versions[str(name)] = str(version)
        self._tell_uses()

    def _tell_uses(self) -> None:
        if self._record:
            self._record("uses", {"builds": list(self.builds), "versions": dict(self.versions)})

    def collect_logs(self, service: "Service") -> None:
        """Copy the service's declared logs from its nodes into ``<results>/<service>/<node>/``."""
        if self.results_dir is None:
            return
        for node in service.nodes:
            target = log_folder(self.results_dir, service.service_id, node.name)
            if not inside(self.results_dir, target):  # node names are checked when a cluster loads
                raise UnsafePathError(f"{node.name}: not a name for a folder of {self.results_dir}")
            collect_logs(node, service.log_files(node), target, service.service_id)

    # -- called by the runner -------------------------------------------------------------------

    def teardown(self) -> list[Exception]:
        """Stop every service still holding nodes, newest first; return the errors (each was
        logged; a service that fails to stop does not keep the others running)."""
        errors = []
        for service in reversed(self.services):
            if not service.nodes:
                continue
            try:
                service.stop()
            except Exception as exc:  # noqa: BLE001 - reported by the caller
                log.error("stopping %s failed: %s", service.service_id, exc, exc_info=True)
                errors.append(exc)
        return errors


def log_folder(results_dir: str, service_id: str, node_name: str) -> str:
    """Where the logs of service ``service_id`` on node ``node_name`` are collected: each file
    keeps its name, in ``<results_dir>/<service_id>/<node_name>/``."""
    return os.path.join(results_dir, service_id, node_name)


def collect_logs(node: Node, files: dict[str, str], target: str, owner: str) -> None:
    """Copy each existing file of ``files`` (name -> path on ``node``) into folder ``target``;
    a copy that would land outside ``target`` (a file name of '..', say) is refused."""
    for name, path in files.items():
        try:
            dest = os.path.join(target, os.path.basename(path))
            if os.path.basename(path) in (".", "..") or not inside(target, dest):
                raise UnsafePathError(f"{path} would be copied to {dest}, outside {target}")
            if node.account.exists(path):
                node.account.copy_from(path, dest)
                secret.redact_files(dest)
        except Exception as exc:  # noqa: BLE001 - a missing log must not hide the real result
            log.warning("could not collect %s log %s from %s: %s", owner, name, node.name, exc)
