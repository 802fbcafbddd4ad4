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
from ducttape.errors import ClusterError, ConfigError
from ducttape import secret
from ducttape.jsonfile import read_json
from ducttape.runner.discovery import TestSpec, discover
from ducttape.runner.result import FAIL
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT, RERUN_FILE, Runner
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


def parse_options(cluster: str = "localhost", timeout: object = None, results_root: str | None = None,
                  max_parallel: object = None, retries: object = None, strict: bool = False,
                  params: list[str] | None = None, params_file: str | None = None,
                  globals_json: str | None = None, secret_keys: list[str] | None = None) -> Options:
    """Options from the command line's text (None: the default); ConfigError (one line) names a
    bad value. The values of the parameters named in ``secret_keys`` (and of those named like
    secrets) are marked secret (``ducttape.secret``) before anything is logged."""
    options = Options(
        cluster,
        DEFAULT_TEST_TIMEOUT if timeout is None else _number("--timeout", timeout, float, 0, above=True),
        results_root or default_results(),
        1 if max_parallel is None else _number("--max-parallel", max_parallel, int, 1),
        0 if retries is None else _number("--retries", retries, int, 0),
        strict, {**load_params_file(params_file), **parse_globals(globals_json),
                 **parse_params(params or [])})
    secret.add_params(options.params, secret_keys or [])
    return options


def _number(flag: str, text: object, kind: type, minimum: int, above: bool = False) -> float | int:
    """``text`` as a ``kind`` of at least ``minimum`` (more than it if ``above``)."""
    what = (f"a number of seconds above {minimum}" if kind is float
            else f"a whole number from {minimum}")
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
    them (ignored ones included)."""
    by_id: dict[str, TestSpec] = {}
    for sel in selections or [None]:
        for spec in discover(sel):
            by_id.setdefault(spec.test_id, spec)
    specs = [s for s in by_id.values() if not s.ducktape]
    specs += sorted((s for s in by_id.values() if s.ducktape), key=lambda s: s.test_id)
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


def collect_only(selections: list[str] | None, out: TextIO = sys.stdout) -> int:
    """Print the tests, their cases and node needs without running anything."""
    specs = select(selections)
    rows = [(s.test_id, f"{s.num_nodes or 'all (undeclared)'}{' (ignored)' * s.ignored}") for s in specs]
    out.write(tabulate(rows, headers=("test", "nodes")) + f"\n\n{len(specs)} tests\n")
    return 0


def run_session(selections: list[str] | None = None, options: Options | None = None,
                out: TextIO = sys.stdout) -> int:
    """Run the selected tests; return the exit code (0 only if every test passed or was flaky).

    Bad input (unknown test, bad cluster, a cluster too small for every selected test, an
    unreachable node) raises a DucttapeError before anything is written. The build manifest
    (what ``invoke build`` put on the nodes) goes into the session as build-manifest.json.
    """
    opts = options or Options()
    specs = select(selections)
    for s in specs:
        if s.ignored:
            out.write(f"ignored (@ignore/@env): {s.test_id}\n")
    specs = [s for s in specs if not s.ignored]
    if not specs:
        out.write("ducttape: every selected test is ignored; nothing to run\n")
        return 0
    undeclared = [s for s in specs if not s.num_nodes]
    if undeclared and opts.strict:
        raise ConfigError(f"{undeclared[0].test_id} declares no node need: add @cluster(num_nodes=N)")
    cluster = load_cluster(opts.cluster)
    try:
        if all(s.misfit(cluster) for s in specs):
            s = max(specs, key=lambda s: s.num_nodes)
            raise ClusterError(f"{s.misfit(cluster)}; {cluster.bigger_hint(s.num_nodes)}")
        cluster.check()
        if opts.cluster.startswith("json:"):  # vagrant workers get theirs from `cluster.rsync`
            sync_builds(cluster.nodes, out=lambda line: print(line, file=out, flush=True))
        runner = Runner(cluster, opts.results_root, opts.cluster, timeout=opts.timeout, out=out,
                        max_parallel=opts.max_parallel, retries=opts.retries,
                        build_manifest=manifest.read() or None, params=opts.params)
        out.write(f"ducttape: {len(specs)} test{'s' * (len(specs) != 1)} on the {cluster.description}"
                  f"{f', {opts.max_parallel} at a time' if opts.max_parallel > 1 else ''}; "
                  f"results in {os.path.relpath(runner.session.path)}\n")
        for s in undeclared:
            out.write(f"warning: {s.test_id} declares no node need (@cluster(num_nodes=N)); "
                      f"it takes the whole cluster ({len(cluster)} nodes)\n")
        out.flush()
        results = runner.run(specs)
    finally:
        cluster.close()
    if runner.session.interrupted:
        return 130
    return 1 if any(r.status == FAIL for r in results) else 0
