"""``invoke test``: run scenario modules from ducttape/tests/."""

from __future__ import annotations

import os

from invoke import task
from invoke.exceptions import Exit

from ducttape.cli import user_errors
from ducttape.errors import ConfigError
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.runner import session_run
from ducttape.runner.compare import (DEFAULT_THRESHOLD, JSON, PLOT, TEXT, render_table, resolve,
                                     write_comparison)
from ducttape.runner.session_run import DEFAULT_RESULTS


@task(
    positional=["name"],
    help={
        "name": "NAME, NAME::Class, NAME::Class.method or NAME::Class.method[k=v,...] of "
                "ducttape/tests/NAME.py, a path to a .py file, 'all' for every scenario module, or "
                "'failed' for the tests that failed in the latest session",
        "cluster": "localhost (default, 8 logical nodes), localhost:N, json:FILE, or vagrant (invoke cluster.up)",
        "timeout": f"seconds each test may take before it fails (default {DEFAULT_TEST_TIMEOUT:g})",
        "results-dir": "where session folders go (default: results/ in the repository)",
        "max-parallel": "run up to N tests at once, each on its own nodes (default 1)",
        "retries": "run a failed test up to N more times; a later pass is reported FLAKY (default 0)",
        "strict": "refuse tests that declare no node need instead of warning",
        "collect-only": "list the tests, their cases and node needs; run nothing",
        "param": "key=value for the tests (self.params; repeatable; values read as JSON where they can)",
        "params": "a JSON file of parameters for the tests (an object; --param values win)",
    },
    iterable=["param"],
)
def test(c, name, cluster="localhost", timeout=None, results_dir=DEFAULT_RESULTS,
         max_parallel=None, retries=None, strict=False, collect_only=False, param=None, params=None):
    """Run scenario tests and write results/<session>/ reports.

    invoke makes positional arguments required, so every scenario module is ``invoke test all``
    and the failures of the latest session are ``invoke test failed``.
    """
    with user_errors():
        if name.startswith("-"):  # invoke hands a required positional the next token, even --help
            raise ConfigError(f"`invoke test` needs a test name before {name}: NAME, all or failed "
                              "(help: `invoke --help test`)")
        options = session_run.parse_options(cluster, timeout, results_dir, max_parallel, retries,
                                            strict, param, params)
        if name == "failed":
            selections = session_run.failed_last_time(results_dir)
        else:
            selections = None if name == "all" else [name]
        if collect_only:
            code = session_run.collect_only(selections)
        else:
            code = session_run.run_session(selections, options)
    if code:
        raise Exit(code=code)


@task(
    positional=["old", "new"],
    help={
        "old": "the earlier session: a session id under the results folder, a session folder, or 'latest'",
        "new": "the later session (the comparison is written into it)",
        "threshold": f"flag figures that changed by more than this many percent (default {DEFAULT_THRESHOLD:g})",
        "results-dir": "where session folders are (default: results/ in the repository)",
    },
)
def compare(c, old, new, threshold=DEFAULT_THRESHOLD, results_dir=DEFAULT_RESULTS):
    """Put two sessions' returned figures side by side, flag changes and plot them."""
    with user_errors():
        old_path, new_path = resolve(results_dir, old), resolve(results_dir, new)
        rows = write_comparison(old_path, new_path, float(threshold))
    print(f"{os.path.basename(old_path)} -> {os.path.basename(new_path)}\n")
    print(render_table(rows, float(threshold)))
    print(f"written to {new_path}: {TEXT}, {JSON}, {PLOT}; report.html shows them")
