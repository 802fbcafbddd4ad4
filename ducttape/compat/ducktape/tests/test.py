"""ducktape.tests.test: ``Test`` and ``TestContext`` on ducttape's runner.

The runner makes a ducktape test as it makes its own (``cls(context)`` with ducttape's
TestContext); the metaclass hands the test ducktape's view of that context instead, so
``__init__(self, test_context)`` gets what ducktape would give it. ``setup``/``teardown`` (and
the older ``setUp``/``tearDown``) run as ducktape runs them.
"""

from __future__ import annotations

import os

from ducttape.compat.ducktape.cluster.cluster import TestCluster
from ducttape.compat.ducktape.template import TemplateRenderer
from ducttape.runner import context as ducttape_context
from ducttape.runner.test import Test as _DucttapeTest


class TestContext:
    """What a ducktape test and its services see of one test attempt: ``cluster`` (alloc, free),
    ``services`` (the registry services join when made), ``injected_args`` (the case's
    arguments, None for a test without cases), ``globals`` (the session's parameters:
    ``--globals``, ``--param``), ``results_dir``, ``local_scratch_dir``, ``logger``, ``test_id``.
    """

    __test__ = False

    def __init__(self, context: ducttape_context.TestContext):
        self.ducttape = context
        self.cluster = TestCluster(context.cluster)
        self.services = ServiceRegistry(context)
        self.injected_args = dict(context.case) or None
        self.globals = context.params
        self.results_dir = context.results_dir
        self.logger = context.logger
        self.test_id = context.test_id
        self.test_name = context.test_id

    @property
    def local_scratch_dir(self) -> str:
        """A folder on the driver for files a test's services make (keystores, keytabs):
        ``scratch/`` in the test's results."""
        path = os.path.join(self.results_dir or os.getcwd(), "scratch")
        os.makedirs(path, exist_ok=True)
        return path


class ServiceRegistry:
    """The ducktape services of one test, in creation order. Each is registered with ducttape's
    TestContext as a ``_Teardown``, so the runner stops it (newest first) after the test."""

    def __init__(self, context: ducttape_context.TestContext):
        self._context = context
        self._services: list = []
        self._teardowns: dict[int, _Teardown] = {}

    def append(self, service) -> str:
        """Register ``service``; return its id, ``<Class>-<n>``."""
        self._services.append(service)
        n = sum(type(s) is type(service) for s in self._services)
        teardown = self._teardowns[id(service)] = _Teardown(service, f"{type(service).__name__}-{n}", self._context)
        self._context.services.append(teardown)
        return teardown.service_id

    def allocated(self, service) -> None:
        """``service`` took nodes: the runner can now stop what it leaves if the test is killed."""
        if service.nodes:
            self._context.started(self._teardowns[id(service)])

    def freed(self, service) -> None:
        self._context.stopped(self._teardowns[id(service)])

    def __iter__(self):
        return iter(list(self._services))

    def __len__(self) -> int:
        return len(self._services)

    def num_nodes(self) -> int:
        return sum(len(s.nodes) for s in self._services)


class _Teardown:
    """A ducktape service as ducttape's TestContext tears it down: ``stop()`` runs ducktape's
    teardown of it (stop, collect the declared logs, clean, free), each step's error a warning."""

    def __init__(self, service, service_id: str, context: ducttape_context.TestContext):
        self.service = service
        self.service_id = service_id
        self._context = context

    @property
    def nodes(self) -> list:
        return self.service.nodes

    def state(self) -> dict:
        """Which nodes it holds (the runner's sweep ends its processes if the test is killed)."""
        return {"service_id": self.service_id, "nodes": [{"node": n.name} for n in self.service.nodes]}

    def stop(self) -> None:
        # as ducktape's teardown: every step runs and an error is a warning in the test's log,
        # not the test's result (the runner's sweep then ends any process the service left)
        for step in (self.service.stop, self._collect_logs, self.service.clean):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - see above
                ducttape_context.log.warning("%s: %s failed: %s", self.service_id, step.__name__, exc, exc_info=True)
        self.service.free()

    def _collect_logs(self) -> None:
        """The declared logs the log policy wants, into ``<results>/<service>/<node>/``."""
        logs = {
            name: (
                spec["path"],
                self._context.kept_after_pass(self.service, name, bool(spec.get("collect_default", False))),
            )
            for name, spec in (self.service.logs or {}).items()
        }
        for node in self.service.nodes:
            self._context.collect(node.node, self.service_id, logs)


class _DucktapeTestType(type):
    def __call__(cls, *args, **kwargs):
        args = list(args)
        if args and isinstance(args[0], ducttape_context.TestContext):
            args[0] = TestContext(args[0])
        elif isinstance(kwargs.get("test_context"), ducttape_context.TestContext):
            kwargs["test_context"] = TestContext(kwargs["test_context"])
        return super().__call__(*args, **kwargs)


class Test(_DucttapeTest, TemplateRenderer, metaclass=_DucktapeTestType):
    """A ducktape test: ``self.test_context``, ``self.logger``, ``self.cluster``; override
    ``setup``/``teardown`` (or ``setUp``/``tearDown``)."""

    def __init__(self, test_context: TestContext, *args, **kwargs):
        super().__init__(test_context.ducttape)
        self.test_context = test_context
        self.cluster = test_context.cluster  # type: ignore[assignment]  # ducktape's: a TestCluster
        # ducttape's runner calls setUp/tearDown; ducktape's calls setup/teardown, whose default
        # calls setUp/tearDown: route the runner's calls through ducktape's
        self.setUp = lambda: type(self).setup(self)  # type: ignore[method-assign]  # ducktape's order, as said above
        self.tearDown = lambda: type(self).teardown(self)  # type: ignore[method-assign]  # as setUp

    def setup(self) -> None:
        type(self).setUp(self)

    def teardown(self) -> None:
        type(self).tearDown(self)

    def mark_for_collect(self, service, log_name: str | None = None) -> None:
        """Collect ``service``'s log ``log_name`` (default: all its logs) after a pass too."""
        self.test_context.ducttape.mark_for_collect(service, log_name)

    def mark_no_collect(self, service, log_name: str | None = None) -> None:
        """Do not collect ``service``'s log ``log_name`` (default: any) after a pass."""
        self.test_context.ducttape.mark_no_collect(service, log_name)
