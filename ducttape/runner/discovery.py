"""Finding scenarios and the Test classes in them.

A scenario named by its bare NAME is ``tests/NAME.py`` of the workspace, else ducttape's own
``ducttape/tests/NAME.py``; ``all`` is every scenario module of the workspace (in ducttape's
checkout, its ``ducttape/tests/``). Paths and folders select modules anywhere."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
import traceback
from dataclasses import dataclass, field

from ducttape.compat import hook, loader
from ducttape.errors import ConfigError
from ducttape.runner.marks import cases_of, known_failure_of, node_types_needed, num_nodes_needed, tags_of
from ducttape.runner.test import Test
from ducttape.workspace import find_workspace

SCENARIO_PACKAGE = "ducttape.tests"
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
"""ducttape's own scenarios."""
NOT_SCENARIOS = {"__init__", "test", "conftest"}  # test.py holds the scenario base classes
_UNSAFE_IN_FOLDER = re.compile(r"[^\w.,=\[\]+-]")
"""Characters a test's results folder name replaces with _."""


@dataclass(frozen=True)
class TestSpec:
    """One case of one test method of one scenario class."""

    module: str
    cls: type
    method: str
    num_nodes: int | None
    params: dict = field(default_factory=dict)
    source: str = ""
    """What selects the module again: its name in ducttape/tests/, or the absolute path of a
    module kept elsewhere."""
    ducktape: bool = False
    """A ducktape-style test (its module imports ducktape): its id is ducktape's,
    ``package.module.Class.method.arg=value...``."""
    node_types: dict = field(default_factory=dict)
    """Nodes of given types among its ``num_nodes`` (``@cluster(node_types=...)``)."""
    tags: frozenset = frozenset()
    known_failure: str = ""
    """The reason of its ``@known_failure`` mark, '' if it has none."""
    repeat: int = 1
    """Which run of the test this is under ``--repeat`` (its own results folder after the first)."""
    ignored: bool = False
    """Ignored by ducktape's ``@ignore``/``@env``: collected, not run."""

    @property
    def case(self) -> str:
        """``[a=1,b=x]`` for a parametrized case, else empty."""
        if not self.params:
            return ""
        return "[" + ",".join(f"{k}={v}" for k, v in self.params.items()) + "]"

    @property
    def test_id(self) -> str:
        if self.ducktape:
            return loader.test_id(self.module, self.cls.__name__, self.method, self.params)
        return f"{self.module}::{self.cls.__name__}.{self.method}{self.case}"

    @property
    def selector(self) -> str:
        """``invoke test`` selects exactly this case with this (``rerun-failed`` lists these)."""
        return f"{self.source or self.module}::{self.cls.__name__}.{self.method}{self.case}"

    def need(self, cluster_size: int) -> int:
        """Nodes this case takes: its declared need (0 for none), or the whole cluster if it
        declares none."""
        return cluster_size if self.num_nodes is None else self.num_nodes

    def misfit(self, cluster) -> str | None:
        """Why this case cannot run on ``cluster`` (None if it can)."""
        if self.need(len(cluster)) > len(cluster):
            return f"{self.test_id} needs {self.num_nodes} nodes but the {cluster.description} has {len(cluster)}"
        return cluster.type_misfit(self.node_types, f"{self.test_id} needs")

    @property
    def folder(self) -> str:
        name = self.test_id if self.ducktape else f"{self.module}.{self.cls.__name__}.{self.method}{self.case}"
        return _UNSAFE_IN_FOLDER.sub("_", name) + (f".repeat-{self.repeat}" if self.repeat > 1 else "")


def _workspace_scenarios() -> str:
    """The folder of the workspace's scenarios (SCENARIO_DIR when the workspace is ducttape's
    own checkout, whose tests/ is the framework's test suite)."""
    root = find_workspace().root
    if os.path.realpath(os.path.join(root, "ducttape")) == os.path.dirname(SCENARIO_DIR):
        return SCENARIO_DIR
    return os.path.join(root, "tests")


def _modules(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        return []
    return sorted(
        f[:-3]
        for f in os.listdir(folder)
        if f.endswith(".py") and f[:-3] not in NOT_SCENARIOS and not f.startswith("_")
    )


def scenario_names() -> list[str]:
    """Names of the workspace's scenario modules, sorted (what ``all`` runs)."""
    return _modules(_workspace_scenarios())


def _scenario_file(name: str) -> str | None:
    """The workspace's ``tests/NAME.py``, else ducttape's ``ducttape/tests/NAME.py``, else None."""
    if name in NOT_SCENARIOS or not name.isidentifier() or name.startswith("_"):
        return None
    for folder in (_workspace_scenarios(), SCENARIO_DIR):
        path = os.path.join(folder, f"{name}.py")
        if os.path.isfile(path):
            return path
    return None


def discover(selection: str | None = None) -> list[TestSpec]:
    """The tests named by ``selection`` (``NAME``, ``NAME::Class`` or ``NAME::Class.method``;
    NAME a scenario, the path of a module, or a folder of test modules), or of
    every scenario module when it is None."""
    if not selection:
        return [spec for name in scenario_names() for spec in tests_in(name)]
    name, _, member = selection.partition("::")
    if os.sep in name and not os.path.exists(name):
        raise ConfigError(f"unknown test {name!r}: there is no such file or folder (from {os.getcwd()})")
    if os.path.isdir(name):
        if member:
            raise ConfigError(
                f"{selection!r}: a folder selects all its tests; name a module in it to select a class or method"
            )
        return [spec for path in test_modules_in(name) for spec in tests_in(path)]
    specs = tests_in(name)
    if not member:
        return specs
    cls_name, _, method = member.partition(".")
    method, bracket, case = method.partition("[")
    case = bracket + case.replace(" ", "")
    chosen = [
        s
        for s in specs
        if s.cls.__name__ == cls_name
        and (not method or s.method == method)
        and (not case or s.case.replace(" ", "") == case)
    ]
    if not chosen:
        known = ", ".join(sorted({s.test_id for s in specs}))
        where = name if name.endswith(".py") else _scenario_file(name)
        raise ConfigError(f"no test {selection!r}: {where} has {known or 'no tests'}")
    return chosen


def tests_in(name: str) -> list[TestSpec]:
    """Every test method of every Test class defined in scenario module ``name`` (a scenario's
    NAME, or the path of a ``.py`` file)."""
    ducktape = False
    if name.endswith(".py"):
        if not os.path.isfile(name):
            raise ConfigError(f"unknown test {name!r}: there is no such file")
        source = os.path.abspath(name)
        if hook.imports_ducktape(source):
            hook.install()
            module, ducktape = _import_in_package(source), True
            name = module.__name__
        else:
            module, name = _import_file(source), os.path.basename(name)[:-3]
    elif (path := _scenario_file(name)) is None:
        known = sorted(set(scenario_names()) | set(_modules(SCENARIO_DIR)))
        raise ConfigError(
            f"unknown test {name!r}: there is no {os.path.relpath(_workspace_scenarios())}"
            f"/{name}.py (scenarios: {', '.join(known) or 'none'})"
        )
    elif os.path.dirname(path) == SCENARIO_DIR:
        source = name
        module = _load(name, lambda: importlib.import_module(f"{SCENARIO_PACKAGE}.{name}"))
    else:
        source = name
        module = _import_file(path)
    if ducktape:
        return _ducktape_tests(module, source)
    specs = []
    for cls in list(vars(module).values()):  # definition order, as the author wrote them
        if not (inspect.isclass(cls) and issubclass(cls, Test)) or cls.__module__ != module.__name__:
            continue
        for method in [m for m in vars(cls) if m.startswith("test") and callable(getattr(cls, m))]:
            fn = getattr(cls, method)
            tags, reason = tags_of(cls, fn), known_failure_of(cls, fn)
            for params in cases_of(fn):
                num_nodes, types = _need(cls, fn, params, name)
                specs.append(TestSpec(name, cls, method, num_nodes, params, source, ducktape, types, tags, reason))
    return specs


def _ducktape_tests(module, source: str) -> list[TestSpec]:
    try:
        found = loader.tests_in(module)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return [
        TestSpec(
            module.__name__,
            f.cls,
            f.method,
            f.num_nodes,
            f.args,
            source,
            True,
            f.node_types,
            tags_of(f.cls, getattr(f.cls, f.method)),
            known_failure_of(f.cls, getattr(f.cls, f.method)),
            ignored=f.ignored,
        )
        for f in found
    ]


def _need(cls: type, fn, params: dict, module: str) -> tuple[int | None, dict]:
    try:
        return num_nodes_needed(cls, fn, params), node_types_needed(cls, fn, params)
    except Exception as exc:  # noqa: BLE001 - a broken @cluster(num_nodes=...) function is the scenario's bug
        raise ConfigError(
            f"{module}::{cls.__name__}.{fn.__name__}: @cluster(num_nodes=...) "
            f"failed for {params}: {type(exc).__name__}: {exc}"
        ) from None


def _import_file(path: str):
    name = f"ducttape_scenario_{os.path.basename(path)[:-3]}"

    def load():
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return _load(path, load)


def test_modules_in(folder: str) -> list[str]:
    """The test modules under ``folder``, as ducktape finds them (``test_*.py`` and
    ``*_test.py``), sorted; ducktape-style and ducttape modules alike."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        found += [
            os.path.join(root, f)
            for f in sorted(files)
            if f.endswith(".py") and (f.startswith("test_") or f.endswith("_test.py"))
        ]
    if not found:
        raise ConfigError(f"no test modules (test_*.py, *_test.py) in {folder}")
    return found


def _import_in_package(path: str):
    """Import the module at ``path`` by its dotted name in the packages around it (folders with
    ``__init__.py``), as ducktape does, with the folder above the top package on sys.path."""
    folder, parts = os.path.dirname(path), [os.path.basename(path)[:-3]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    name = ".".join(parts)

    def load():
        if folder not in sys.path:
            sys.path.insert(0, folder)
        module = importlib.import_module(name)
        if os.path.realpath(getattr(module, "__file__", "") or "") != os.path.realpath(path):
            raise ImportError(
                f"{name} is {module.__file__}, not this file (another {parts[0]} comes first on sys.path)"
            )
        return module

    return _load(path, load)


def _load(name: str, load):
    try:
        return load()
    except Exception as exc:  # noqa: BLE001 - a broken scenario is reported loudly, never skipped
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{os.path.relpath(frame.filename)}:{frame.lineno}"
        raise ConfigError(f"cannot load scenario {name!r}: {type(exc).__name__}: {exc} ({where})") from None
