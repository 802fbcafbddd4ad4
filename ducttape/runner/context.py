"""TestContext: what the runner hands one test attempt, and the registry of its services."""

from __future__ import annotations

import gzip
import logging
import os
import posixpath
import shlex
import shutil
import tarfile
import tempfile
import time
from typing import TYPE_CHECKING, Callable, Protocol

from ducttape import secret
from ducttape.cluster import Cluster, Node
from ducttape.remote.errors import UnsafePathError
from ducttape.runner.result import PASS
from ducttape.runner.settings import RunSettings
from ducttape.validate import inside

if TYPE_CHECKING:
    from ducttape.services.service import Service

log = logging.getLogger("ducttape.runner")
COMPRESS_TIMEOUT = 300.0
"""Seconds packing (or removing the packed copy of) one log on a node may take."""
Recorder = Callable[[str, object], None]
"""Told ("started", state) when a service takes nodes and ("stopped", service_id) when it gives
them back; the runner sends both to its own process, so it can stop what a killed test left."""


class Registered(Protocol):
    """What a test's context registers and stops at teardown: a Service, a FaultSet, a ducktape
    service (through ducttape.compat)."""

    @property
    def service_id(self) -> str:
        """``<Class>-<n>``, as ``TestContext.register`` returned it."""

    @property
    def nodes(self) -> list[Node]:
        """The nodes it holds now (teardown stops it only if there are any)."""

    def state(self) -> dict:
        """What the runner needs to clean its nodes without it (``service_id``, ``nodes``)."""

    def stop(self) -> None:
        """Give its nodes back, cleaned."""


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

    Which logs are collected follows ``settings.logs`` (see ``RunSettings``): until the test's
    outcome is known (``settle``), a service stopped by the test itself has all its logs
    collected, and those the policy does not keep after a pass are removed when it passes.
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        cluster: Cluster,
        results_dir: str | None = None,
        params: dict | None = None,
        test_id: str = "",
        logger: logging.Logger | None = None,
        recorder: Recorder | None = None,
        case: dict | None = None,
        settings: RunSettings | None = None,
    ):
        self.cluster = cluster
        self.results_dir = results_dir
        self.params = dict(params or {})
        self.case = dict(case or {})
        self.test_id = test_id
        self.logger = logger or logging.getLogger("ducttape.test")
        self.services: list[Registered] = []
        self.builds: list[str] = []
        """The build projects the test's services ran from (``Service.builds``), in first use order."""
        self.versions: dict[str, str] = {}
        """Versions of software the test installed itself (``record_version``)."""
        self.settings = settings or RunSettings()
        self.outcome: str | None = None
        """PASS or FAIL once the test method has returned (``settle``); None while it runs."""
        self.log_marks: dict[tuple[int, str | None], bool] = {}
        """``mark_for_collect`` / ``mark_no_collect``: by (id of the service, log name or None
        for all its logs), whether to collect after a pass."""
        self._provisional: list[tuple[str, bool]] = []
        """Logs collected before the outcome was known: (local path, kept after a pass)."""
        self.collect_seconds = 0.0
        """Seconds spent copying logs from the nodes (``collect``), the test's and its teardown's."""
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

    def register(self, service: Registered) -> str:
        """Remember ``service`` (in creation order); return its id, ``<Class>-<n>``."""
        n = 1 + sum(type(s) is type(service) for s in self.services)
        self.services.append(service)
        return f"{type(service).__name__}-{n}"

    def started(self, service: Registered) -> None:
        """Told by ``service`` when it has taken its nodes (passed on to the runner)."""
        if self._record:
            self._record("started", service.state())

    def stopped(self, service: Registered) -> None:
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
        """Copy the service's declared logs (those the log policy wants) from its nodes into
        ``<results>/<service>/<node>/``."""
        for node in service.nodes:
            logs = {
                name: (path, self.kept_after_pass(service, name, service.collects_by_default(name)))
                for name, path in service.log_files(node).items()
            }
            self.collect(node, service.service_id, logs)

    def mark_for_collect(self, service: object, log_name: str | None = None) -> None:
        """Collect ``service``'s log ``log_name`` (default: all its logs) after a pass too."""
        self.log_marks[(id(service), log_name)] = True

    def mark_no_collect(self, service: object, log_name: str | None = None) -> None:
        """Do not collect ``service``'s log ``log_name`` (default: any of its logs) after a pass."""
        self.log_marks[(id(service), log_name)] = False

    def kept_after_pass(self, service: object, log_name: str, by_default: bool) -> bool:
        """Whether ``declared`` collects this log after a pass: as marked, else ``by_default``."""
        for key in ((id(service), log_name), (id(service), None)):
            if key in self.log_marks:
                return self.log_marks[key]
        return by_default

    def collect(self, node: Node, owner: str, logs: dict[str, tuple[str, bool]]) -> None:
        """Copy the logs ``logs`` (name -> (path on ``node``, kept after a pass)) that the
        session's log policy wants into ``<results>/<owner>/<node>/``."""
        if self.results_dir is None:
            return
        target = log_folder(self.results_dir, owner, node.name)
        if not inside(self.results_dir, target):  # node names are checked when a cluster loads
            raise UnsafePathError(f"{node.name}: not a name for a folder of {self.results_dir}")
        policy, known = self.settings.logs, self.outcome is not None
        wanted = {
            name: path
            for name, (path, keep) in logs.items()
            if not known or self.outcome != PASS or policy == "always" or (policy == "declared" and keep)
        }
        began = time.monotonic()
        try:
            copied = collect_logs(node, wanted, target, owner, compress=self.settings.compress)
        finally:
            self.collect_seconds += time.monotonic() - began
        if not known:
            self._provisional += [(copied[name], logs[name][1]) for name in copied]

    def settle(self, outcome: str) -> None:
        """The test method returned with ``outcome``: logs collected before, that the policy
        does not keep after a pass, are removed now if it passed."""
        self.outcome = outcome
        if outcome != PASS or self.settings.logs == "always":
            return
        for path, keep in self._provisional:
            if not (keep and self.settings.logs == "declared"):
                _remove(path)
        self._provisional.clear()

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
            except Exception as exc:
                log.error("stopping %s failed: %s", service.service_id, exc, exc_info=True)
                errors.append(exc)
        return errors


def log_folder(results_dir: str, service_id: str, node_name: str) -> str:
    """Where the logs of service ``service_id`` on node ``node_name`` are collected: each file
    keeps its name, in ``<results_dir>/<service_id>/<node_name>/``."""
    return os.path.join(results_dir, service_id, node_name)


def collect_logs(node: Node, files: dict[str, str], target: str, owner: str, compress: bool = False) -> dict[str, str]:
    """Copy each existing file (or folder) of ``files`` (name -> path on ``node``) into folder
    ``target``; return the local paths by name. A copy that would land outside ``target`` (a
    file name of '..', say) is refused. ``compress``: packed on the node, unpacked here, secrets
    redacted, and each file kept gzipped (``NAME.gz``)."""
    copied = {}
    for name, path in files.items():
        try:
            dest = os.path.join(target, os.path.basename(path))
            if os.path.basename(path) in (".", "..") or not inside(target, dest):
                raise UnsafePathError(f"{path} would be copied to {dest}, outside {target}")
            if compress:
                if fetch_compressed(node, path, target):
                    copied[name] = dest
            elif node.account.exists(path):
                node.account.copy_from(path, dest)
                secret.redact_files(dest)
                copied[name] = dest
        except Exception as exc:  # noqa: BLE001 - a missing log must not hide the real result
            log.warning("could not collect %s log %s from %s: %s", owner, name, node.name, exc)
    return copied


def fetch_compressed(node: Node, path: str, target: str) -> bool:
    """Pack ``path`` (a file or folder) on ``node`` into a gzipped tar in a fresh temporary
    folder there, copy it, unpack it into ``target``, redact secrets and gzip each file;
    remove the temporary folder. False if ``path`` does not exist."""
    folder, base = posixpath.split(path.rstrip("/"))
    packed = node.account.ssh_output(
        f"test -e {shlex.quote(path)} || exit 0; t=$(mktemp -d) && "
        f'tar czf "$t/logs.tgz" -C {shlex.quote(folder or "/")} {shlex.quote(base)} && echo "$t"',
        timeout=COMPRESS_TIMEOUT,
    ).strip()
    if not packed:
        return False
    local = tempfile.mkdtemp(prefix="ducttape-logs-")
    try:
        node.account.copy_from(f"{packed}/logs.tgz", os.path.join(local, "logs.tgz"))
        with tarfile.open(os.path.join(local, "logs.tgz")) as tar:
            # only plain files and folders, each inside ``local``: a node's archive is not trusted
            members = [
                m for m in tar.getmembers() if (m.isfile() or m.isdir()) and inside(local, os.path.join(local, m.name))
            ]
            tar.extractall(local, members=members)
        os.remove(os.path.join(local, "logs.tgz"))
        secret.redact_files(local)
        for dirpath, _, names in os.walk(local):
            for name in names:
                _gzip(os.path.join(dirpath, name))
        os.makedirs(target, exist_ok=True)
        name = base if os.path.isdir(os.path.join(local, base)) else f"{base}.gz"  # a file is gzipped
        dest = os.path.join(target, name)
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        shutil.move(os.path.join(local, name), dest)
    finally:
        shutil.rmtree(local, ignore_errors=True)
        node.account.ssh(f"rm -rf {shlex.quote(packed)}", allow_fail=True, timeout=COMPRESS_TIMEOUT)
    return True


def _gzip(path: str) -> None:
    with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.remove(path)


def _remove(path: str) -> None:
    """Remove a collected log (a file, its ``.gz``, or a folder)."""
    for candidate in (path, f"{path}.gz"):
        if os.path.isdir(candidate) and not os.path.islink(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
        elif os.path.lexists(candidate):
            os.remove(candidate)
