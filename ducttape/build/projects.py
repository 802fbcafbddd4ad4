"""projects.yaml: what `invoke build` builds, validated on load.

Three kinds of entry, told apart by their keys::

    projects:
      - name: mylib                        # git + Maven source project
        git: git@github.com:me/mylib.git   # ssh form; `invoke build --http` uses https instead
        ref: v1.2.0                        # pinned branch, tag or commit
        goal: install                      # package | install (install: into ~/.m2 for dependents)
        mvn_args: [-Pfast]                 # optional extra mvn arguments
        depends_on: [otherlib]             # optional: projects that build first
        main_classes:                      # optional: role -> main class (gets libs/ + launcher)
          server: org.example.Server

      - name: kafka                        # released Maven artifacts
        artifacts:                         # groupId:artifactId:version, one or more
          - org.apache.kafka:kafka_2.13:4.1.1
        main_classes:                      # role -> main class the services launch
          broker: kafka.Kafka

      - name: kafka-dev                    # git checkout used as it is, not built: its tree plus
        git: https://github.com/apache/kafka.git   # released jars (and their runtime
        ref: 4.1.1                         # dependencies) in libs/, e.g. a source tree's
        libs:                              # scripts and system tests with the released code
          - org.apache.kafka:kafka_2.13:4.1.1
        libs_in:                           # optional: more released jars, into other folders of
          core/build/dependant-testlibs:   # the checkout (jars libs/ holds are not copied again);
            - org.apache.kafka:kafka_2.13:4.1.1:jar:test   # groupId:artifactId:version[:type[:classifier]]
        exclude:                           # optional: groupId:artifactId left out of every
          - xml-apis:xml-apis              # resolution of the project, as Gradle's exclude

      - name: mytool                       # Maven project kept in a local folder
        path: tools/mytool                 # relative to the projects file's folder
        main_classes:
          tool: org.example.Tool

Every kind also takes ``optional: true``: the build still succeeds when that project fails (it
is reported, with a warning at the end), unless it was asked for by name with ``--only``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ducttape.errors import ConfigError
from ducttape.secret import strip_url_credentials
from ducttape.validate import NAME_RE
from ducttape.workspace import find_workspace

GOALS = ("package", "install")
GIT_KEYS = {
    "name",
    "git",
    "ref",
    "goal",
    "mvn_args",
    "main_classes",
    "depends_on",
    "optional",
    "libs",
    "libs_in",
    "exclude",
}
RELEASED_KEYS = {"name", "artifacts", "main_classes", "optional"}
LOCAL_KEYS = {"name", "path", "main_classes", "depends_on", "optional"}
KIND_KEYS = ("git", "artifacts", "path")
COORD_RE = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+(:[A-Za-z0-9_.-]+){0,2}$")
COORD_FORM = "groupId:artifactId:version[:type[:classifier]]"
MODULE_RE = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")
PLAIN_ARG_RE = re.compile(r"^[^-\s][^\s\x00-\x1f\x7f]*$")
"""A git URL or ref: one word that git cannot take for an option."""
CLASS_RE = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")


@dataclass(frozen=True)
class GitProject:
    """A git repository built with ``mvn -DskipTests <goal>``; with ``main_classes``, its jars and
    runtime dependencies are gathered in ``libs/`` beside a ``bin/run-class`` launcher. With
    ``libs`` (released artifacts) it is not built: those artifacts and their runtime
    dependencies are resolved into ``libs/`` of the checkout instead, those of ``libs_in`` into
    the folders it names (less the jars ``libs/`` holds), all without the ``exclude`` modules."""

    name: str
    git: str
    ref: str
    goal: str
    mvn_args: tuple[str, ...] = ()
    main_classes: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    optional: bool = False
    libs: tuple[str, ...] = ()
    libs_in: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    kind = "git"

    def url(self, http: bool = False) -> str:
        """The clone URL: as written (ssh form), or its https form when ``http``."""
        return https_url(self.git) if http else self.git


@dataclass(frozen=True)
class ReleasedProject:
    """Released Maven artifacts resolved with their runtime dependencies into ``libs/``."""

    name: str
    artifacts: tuple[str, ...]
    main_classes: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    optional: bool = False
    kind = "released"

    @property
    def version(self) -> str:
        """The version of the first artifact, the one the project is known by."""
        return self.artifacts[0].split(":")[2]


@dataclass(frozen=True)
class LocalProject:
    """A Maven project in a local folder, built into ``libs/`` with its runtime dependencies."""

    name: str
    path: str  # as written in projects.yaml
    source_dir: Path  # ``path`` resolved against the projects file's folder
    main_classes: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    optional: bool = False
    kind = "local"


Project = GitProject | ReleasedProject | LocalProject


def https_url(url: str) -> str:
    """``git@host:path`` or ``ssh://[user@]host/path`` as ``https://host/path``; others unchanged."""
    m = re.match(r"^ssh://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.+)$", url)
    if m:
        return f"https://{m.group(1)}/{m.group(2)}"
    m = re.match(r"^[^@/:]+@([^:/]+):(.+)$", url)
    if m:
        return f"https://{m.group(1)}/{m.group(2)}"
    return url


def load(path: Path | str | None = None) -> dict[str, Project]:
    """Read and validate a projects.yaml (default: the workspace's); raises ConfigError."""
    path = Path(path) if path else find_workspace().projects_file
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such projects file; pass --projects FILE or create it") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}") from None
    if not isinstance(doc, dict) or set(doc) != {"projects"} or not isinstance(doc["projects"], list):
        raise ConfigError(f"{path}: expected a mapping with one key 'projects' holding a list of projects")
    projects: dict[str, Project] = {}
    for i, entry in enumerate(doc["projects"]):
        project = _parse_entry(path, i, entry)
        if project.name in projects:
            raise ConfigError(f"{path}: project '{project.name}' is listed twice")
        projects[project.name] = project
    for p in projects.values():
        for dep in p.depends_on:
            if dep not in projects:
                raise ConfigError(f"{path}: project '{p.name}': depends_on names unknown project '{dep}'")
    build_order(projects, projects)  # raises on cycles
    return projects


def _parse_entry(path: Path, index: int, entry: object) -> Project:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: projects[{index}]: expected a mapping of keys, got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(f"{path}: projects[{index}]: 'name' must be a word of letters, digits, '.', '_', '-'")
    where = f"{path}: project '{name}'"
    kinds = [k for k in KIND_KEYS if k in entry]
    if len(kinds) != 1:
        raise ConfigError(
            f"{where}: give exactly one of 'git' (git source project), 'artifacts' (released) "
            f"or 'path' (local source project), not {' and '.join(kinds) or 'none'}"
        )
    known = {"git": GIT_KEYS, "artifacts": RELEASED_KEYS, "path": LOCAL_KEYS}[kinds[0]]
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(known))})")
    optional = entry.get("optional", False)
    if not isinstance(optional, bool):
        raise ConfigError(f"{where}: 'optional' must be true or false")
    if "path" in entry:
        if not isinstance(entry["path"], str) or not entry["path"].strip():
            raise ConfigError(f"{where}: 'path' must be a folder holding a pom.xml")
        return LocalProject(
            name=name,
            path=entry["path"],
            source_dir=(path.parent / entry["path"]).resolve(),
            main_classes=_main_classes(where, entry),
            depends_on=_str_list(where, entry, "depends_on"),
            optional=optional,
        )
    if "git" in entry:
        for key in ("git", "ref"):
            if not isinstance(entry.get(key), (str, int)) or not str(entry[key]).strip():
                raise ConfigError(f"{where}: '{key}' is required and must be a string")
            if not PLAIN_ARG_RE.match(str(entry[key])):
                raise ConfigError(
                    f"{where}: '{key}' {strip_url_credentials(str(entry[key]))!r} must not start "
                    "with '-' or hold spaces or control characters"
                )
        goal = entry.get("goal", "package")
        if goal not in GOALS:
            raise ConfigError(f"{where}: goal must be one of {', '.join(GOALS)}, not {goal!r}")
        libs = _coordinates(where, entry, "libs") if "libs" in entry else ()
        clash = sorted({"goal", "mvn_args", "main_classes"} & set(entry)) if libs else []
        if clash:
            raise ConfigError(
                f"{where}: '{clash[0]}' and 'libs' exclude each other (a project with "
                f"'libs' is not built; its libs/ holds those released artifacts)"
            )
        orphan = sorted({"libs_in", "exclude"} & set(entry)) if not libs else []
        if orphan:
            raise ConfigError(
                f"{where}: '{orphan[0]}' goes with 'libs' (released jars for a tree that "
                f"is not built); add 'libs' or drop '{orphan[0]}'"
            )
        return GitProject(
            name=name,
            git=str(entry["git"]),
            ref=str(entry["ref"]),
            goal=goal,
            mvn_args=_str_list(where, entry, "mvn_args"),
            main_classes=_main_classes(where, entry),
            depends_on=_str_list(where, entry, "depends_on"),
            optional=optional,
            libs=libs,
            libs_in=_libs_in(where, entry),
            exclude=_modules(where, entry, "exclude"),
        )
    artifacts = _coordinates(where, entry, "artifacts")
    return ReleasedProject(name=name, artifacts=artifacts, main_classes=_main_classes(where, entry), optional=optional)


def _coordinates(where: str, entry: dict, key: str) -> tuple[str, ...]:
    """The non-empty list of Maven coordinates under ``key``."""
    coords = _str_list(where, entry, key)
    if not coords:
        raise ConfigError(f"{where}: '{key}' must list at least one {COORD_FORM}")
    for coord in coords:
        if not COORD_RE.match(coord):
            raise ConfigError(f"{where}: artifact {coord!r} in '{key}' is not {COORD_FORM}")
    return coords


def _libs_in(where: str, entry: dict) -> dict[str, tuple[str, ...]]:
    """``libs_in``: folder of the checkout (relative, inside it, not libs/) -> coordinates."""
    if "libs_in" not in entry:
        return {}
    value = entry["libs_in"]
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: 'libs_in' must map folders of the checkout to lists of {COORD_FORM}")
    folders = {}
    for folder, coords in value.items():
        parts = Path(str(folder)).parts
        if not parts or Path(str(folder)).is_absolute() or ".." in parts or parts[0] in ("libs", ".git"):
            raise ConfigError(
                f"{where}: 'libs_in' folder {folder!r} must be a relative path inside the "
                f"checkout, outside libs/ and .git/"
            )
        folders["/".join(parts)] = _coordinates(where, {f"libs_in: {folder}": coords}, f"libs_in: {folder}")
    return folders


def _modules(where: str, entry: dict, key: str) -> tuple[str, ...]:
    """The list of groupId:artifactId under ``key`` (may be empty)."""
    modules = _str_list(where, entry, key)
    for module in modules:
        if not MODULE_RE.match(module):
            raise ConfigError(f"{where}: {key} entry {module!r} is not groupId:artifactId")
    return modules


def _main_classes(where: str, entry: dict) -> dict[str, str]:
    main_classes = entry.get("main_classes", {})
    if not isinstance(main_classes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and CLASS_RE.match(v) for k, v in main_classes.items()
    ):
        raise ConfigError(f"{where}: 'main_classes' must map role names to Java class names")
    return dict(main_classes)


def _str_list(where: str, entry: dict, key: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    if key == "depends_on":
        bad = [v for v in value if not NAME_RE.match(v)]
        if bad:
            raise ConfigError(f"{where}: depends_on names {bad[0]!r}, which is not a project name")
    return tuple(value)


def build_order(projects: dict[str, Project], wanted) -> list[Project]:
    """``wanted`` names plus everything they depend on, dependencies first; raises on a cycle."""
    order: list[Project] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ConfigError(f"projects: dependency cycle {' -> '.join(chain + (name,))}")
        state[name] = "visiting"
        for dep in projects[name].depends_on:
            visit(dep, chain + (name,))
        state[name] = "done"
        order.append(projects[name])

    for name in wanted:
        visit(name, ())
    return order
