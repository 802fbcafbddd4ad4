"""One ``invoke test`` session: choose tests and cluster, check them, run, report."""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from tabulate import tabulate

from ducttape.build import manifest
from ducttape.build.sync import sync_builds
from ducttape.cluster import load_cluster
from ducttape.cluster.lease import Leases
from ducttape.errors import ClusterError, ConfigError
from ducttape import secret
from ducttape.jsonfile import read_json
from ducttape.runner import kept, selection as choosing
from ducttape.runner.discovery import TestSpec, discover
from ducttape.runner.selection import Selection
from ducttape.runner.settings import RunSettings
from ducttape.runner.result import FAIL
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT, RERUN_FILE, Runner
from ducttape.stopping import exit_code
from ducttape.workspace import find_workspace


def default_results() -> str:
    """The results folder of the workspace (``results/``); ConfigError outside any workspace."""
    return str(find_workspace().results_dir)


@dataclass
class Options:
    """How to run a session (the ``invoke test`` options)."""

    cluster: str = "localhost"
    timeout: float = DEFAULT_TEST_TIMEOUT
    results_root: str = ""
    """Where session folders go (`default_results` when empty)."""
    max_parallel: int = 1
    retries: int = 0
    strict: bool = False
    params: dict = field(default_factory=dict)
    wait_for_nodes: float = 0.0
    selection: Selection = field(default_factory=Selection)
    """Which of the named tests run (``--exclude``, ``--tags``, ``--sample``, ``--subsets``...)."""
    settings: RunSettings = field(default_factory=RunSettings)
    """How they run (``--exit-first``, ``--no-teardown``, ``--logs``, ``--jvm-logs``...)."""


def parse_options(
    cluster: str = "localhost",
    timeout: object = None,
    results_root: str | None = None,
    max_parallel: object = None,
    retries: object = None,
    strict: bool = False,
    params: list[str] | None = None,
    params_file: str | None = None,
    globals_json: str | None = None,
    secret_keys: list[str] | None = None,
    wait_for_nodes: object = None,
) -> Options:
    """Options from the command line's text (None: the default); ConfigError (one line) names a
    bad value. The values of the parameters named in ``secret_keys`` (and of those named like
    secrets) are marked secret (``ducttape.secret``) before anything is logged."""
    options = Options(
        cluster,
        DEFAULT_TEST_TIMEOUT if timeout is None else _number("--timeout", timeout, float, 0, above=True),
        results_root or default_results(),
        1 if max_parallel is None else int(_number("--max-parallel", max_parallel, int, 1)),
        0 if retries is None else int(_number("--retries", retries, int, 0)),
        strict,
        {**load_params_file(params_file), **parse_globals(globals_json), **parse_params(params or [])},
        0.0 if wait_for_nodes is None else _number("--wait-for-nodes", wait_for_nodes, float, 0),
    )
    secret.add_params(options.params, secret_keys or [])
    return options


def _number(flag: str, text: object, kind: type, minimum: int, above: bool = False) -> float | int:
    """``text`` as a ``kind`` of at least ``minimum`` (more than it if ``above``)."""
    what = f"a number of seconds above {minimum}" if kind is float else f"a whole number from {minimum}"
    try:
        number = kind(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{flag} {text!r} is not {what}") from None
    if not math.isfinite(number) or number < minimum or (above and number == minimum):
        raise ConfigError(f"{flag} {text!r} is not {what}")
    return number


def load_params_file(path: str | None) -> dict:
    """The parameters in JSON file ``path`` (an object); {} when there is no file."""
    if not path:
        return {}
    params = read_json(path, "--params file")
    if not isinstance(params, dict):
        raise ConfigError(f'--params file {path}: expected a JSON object, e.g. {{"size": "seed"}}')
    return params


def parse_globals(text: str | None) -> dict:
    """ducktape's ``--globals``: a JSON object, or the path of a file holding one; {} if None."""
    if not text:
        return {}
    if os.path.isfile(text):
        value = read_json(text, "--globals file")
    else:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--globals {text!r} is neither a JSON object nor a file: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f'--globals {text!r}: expected a JSON object, e.g. {{"kafka_mode": "native"}}')
    return value


def parse_params(pairs: list[str]) -> dict:
    """``key=value`` strings as a dict; a value that reads as JSON (a number, true, a list) is
    taken as such, anything else as a string."""
    params: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param {pair!r} is not key=value (e.g. --param size=seed)")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def select(selections: list[str] | None) -> list[TestSpec]:
    """The tests of every selection (all scenario modules when there is none), each once:
    ducttape's in the order found, then the ducktape-style ones sorted by id, as ducktape runs
    them (ignored ones included); a test suite file (``.yml``) selects what it includes less
    what it excludes."""
    by_id: dict[str, TestSpec] = {}
    excluded: list[str] = []
    chosen: list[str | None] = list(selections) if selections else [None]
    for sel in chosen:
        included: list[str | None]
        if sel and choosing.is_suite(sel.partition("::")[0]):
            suite, leave_out = choosing.load_suite(sel)
            included = [*suite]
            excluded += leave_out
        else:
            included = [sel]
        for name in included:
            for spec in discover(name):
                by_id.setdefault(spec.test_id, spec)
    found = [s for s in by_id.values() if not s.ducktape]
    found += sorted((s for s in by_id.values() if s.ducktape), key=lambda s: s.test_id)
    specs = choosing.excluding(found, excluded, "test suite exclusion")
    if not specs:
        raise ConfigError(f"no tests found in {', '.join(selections or ['the scenario modules'])}")
    return specs


def failed_last_time(results_root: str) -> list[str]:
    """The failed tests of the latest session (its ``rerun-failed`` file), as selections."""
    path = os.path.join(results_root, "latest", RERUN_FILE)
    if not os.path.exists(path):
        raise ConfigError(f"no {path}: there is no earlier session to rerun")
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise ConfigError(f"no failed tests in the latest session ({os.path.dirname(os.path.realpath(path))})")
    return ids


def chosen(selections: list[str] | None, opts: Options, out: TextIO) -> list[TestSpec]:
    """The tests a session runs: those named, narrowed by ``opts.selection`` (a drawn sample's
    seed is printed, to draw the same again)."""

    def say(line: str) -> None:
        out.write(line + "\n")

    return choosing.choose(select(selections), opts.selection, opts.results_root, say)


def _nodes_text(spec: TestSpec) -> str:
    ignored = " (ignored)" * spec.ignored
    if spec.num_nodes is None:
        return "all (undeclared)" + ignored
    types = ", ".join(f"{n} {t}" for t, n in sorted(spec.node_types.items()))
    return (f"{spec.num_nodes} ({types})" if types else str(spec.num_nodes)) + ignored


def collect_only(
    selections: list[str] | None, options: Options | None = None, out: TextIO = sys.stdout, nodes_only: bool = False
) -> int:
    """Print the tests, their cases and node needs without running anything; ``nodes_only``
    (``--collect-num-nodes``): only what they ask for in all and at most, per node type."""
    opts = options or Options()
    specs = chosen(selections, opts, out)
    if not nodes_only:
        listing = [(s.test_id, _nodes_text(s), " ".join(sorted(s.tags)), s.known_failure) for s in specs]
        out.write(tabulate(listing, headers=("test", "nodes", "tags", "known failure")) + f"\n\n{len(specs)} tests\n")
        return 0
    declared = [s for s in specs if s.num_nodes is not None]
    counts = [n for s in declared if (n := s.num_nodes) is not None]
    rows = [("all types", sum(counts), max(counts, default=0))]
    for node_type in sorted({t for s in declared for t in s.node_types}):
        needs = [s.node_types.get(node_type, 0) for s in declared]
        rows.append((node_type, sum(needs), max(needs)))
    out.write(tabulate(rows, headers=("node type", "in all", "most at once")) + "\n")
    undeclared = len(specs) - len(declared)
    out.write(
        f"\n{len(specs)} tests ask for {rows[0][1]} nodes in all (ducktape's "
        f"--collect-num-nodes); one test needs at most {rows[0][2]}"
        + (f"; {undeclared} declare no need and take the whole cluster" if undeclared else "")
        + "\n"
    )
    return 0


def run_session(selections: list[str] | None = None, options: Options | None = None, out: TextIO = sys.stdout) -> int:
    """Run the selected tests; return the exit code (0 only if every test passed or was flaky).

    Bad input (unknown test, bad cluster, a cluster too small for every selected test, an
    unreachable node) raises a DucttapeError before anything is written, and so do nodes that
    another session holds (after waiting ``wait_for_nodes`` seconds for them): the session
    leases its nodes (``ducttape.cluster.lease``) until it ends. The build manifest (what
    ``invoke build`` put on the nodes) goes into the session as build-manifest.json.
    """
    opts = options or Options()
    specs = chosen(selections, opts, out)
    for s in specs:
        if s.ignored:
            out.write(f"ignored (@ignore/@env): {s.test_id}\n")
    specs = [s for s in specs if not s.ignored]
    if not specs:
        out.write("ducttape: every selected test is ignored; nothing to run\n")
        return 0
    undeclared = [s for s in specs if s.num_nodes is None]
    if undeclared and opts.strict:
        raise ConfigError(f"{undeclared[0].test_id} declares no node need: add @cluster(num_nodes=N)")
    cluster = load_cluster(opts.cluster)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    leases = Leases(cluster.lease_places(), out=say)
    try:
        if all(s.misfit(cluster) for s in specs):
            s = max(specs, key=lambda s: s.num_nodes or 0)
            raise ClusterError(f"{s.misfit(cluster)}; {cluster.bigger_hint(s.num_nodes or 0)}")
        if cluster.known_hosts is not None and cluster.known_hosts.policy == "off":
            say(
                f"warning: host keys are not checked on the {cluster.description} "
                "(host_key_policy off): anyone between here and a node can pose as it"
            )
        cluster.check()
        leases.take(opts.wait_for_nodes)
        if opts.cluster.startswith("json:"):  # vagrant workers get theirs from `cluster.rsync`
            sync_builds(cluster.nodes, out=say)
        runner = Runner(
            cluster,
            opts.results_root,
            opts.cluster,
            timeout=opts.timeout,
            out=out,
            max_parallel=opts.max_parallel,
            retries=opts.retries,
            build_manifest=manifest.read() or None,
            params=opts.params,
            settings=opts.settings,
            selection=opts.selection.describe(),
        )
        leases.name_session(runner.session.session_id)
        out.write(
            f"ducttape: {len(specs)} test{'s' * (len(specs) != 1)} on the {cluster.description}"
            f"{f', {opts.max_parallel} at a time' if opts.max_parallel > 1 else ''}; "
            f"results in {os.path.relpath(runner.session.path)}\n"
        )
        for s in undeclared:
            out.write(
                f"warning: {s.test_id} declares no node need (@cluster(num_nodes=N)); "
                f"it takes the whole cluster ({len(cluster)} nodes)\n"
            )
        out.flush()
        results = runner.run(specs)
        if runner.kept is not None:
            kept.add_folders(runner.session.path, cluster.leave_running())
            held = leases.keep({n["name"] for n in runner.kept["nodes"]})  # until cluster.clean
            kept.add_leases(runner.session.path, held)
    finally:
        leases.release()
        cluster.close()
    if runner.session.interrupted:
        return exit_code(runner.stopped_by)
    return 1 if any(r.status == FAIL for r in results) else 0
