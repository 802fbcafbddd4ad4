"""``test``, ``compare``, ``history``: run scenarios and read their results."""

from __future__ import annotations

import os

from invoke import task
from invoke.exceptions import Exit

from ducttape.cli import user_errors
from ducttape.errors import ConfigError
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.runner import session_run
from ducttape.runner.compare import (DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD, JSON, PLOT, TEXT,
                                     render_table, resolve_many, side_name, write_comparison)
from ducttape.runner.history import render_history
from ducttape.runner.reports.index import write_index
from ducttape.runner.session_run import default_results
from ducttape.stopping import stoppable


@task(
    positional=["name"],
    help={
        "name": "NAME, NAME::Class, NAME::Class.method or NAME::Class.method[k=v,...] of "
                "the scenario NAME (tests/NAME.py of the workspace, or one of ducttape's), a path to a .py file (ducktape-style modules too) or to a "
                "folder of test modules (test_*.py, *_test.py), 'all' for every scenario module, or "
                "'failed' for the tests that failed in the latest session",
        "cluster": "localhost (default, 8 logical nodes), localhost:N, json:FILE, vagrant (invoke cluster.up) or aws (invoke cluster.up --aws)",
        "timeout": f"seconds each test may take before it fails (default {DEFAULT_TEST_TIMEOUT:g})",
        "results-dir": "where session folders go (default: results/ in the workspace)",
        "max-parallel": "run up to N tests at once, each on its own nodes (default 1)",
        "retries": "run a failed test up to N more times; a later pass is reported FLAKY (default 0)",
        "strict": "refuse tests that declare no node need instead of warning",
        "collect-only": "list the tests, their cases and node needs; run nothing",
        "param": "key=value for the tests (self.params; repeatable; values read as JSON where they can)",
        "params": "a JSON file of parameters for the tests (an object; --param values win)",
        "globals": "ducktape's --globals: a JSON object, or a file holding one, that ducktape-style "
                   "tests see as test_context.globals (they are the session's parameters; --param wins)",
        "secret": "KEY of a parameter or global whose value is secret: shown as *** in logs, reports "
                  "and here (repeatable; keys named like *password*, *secret*, *token* are already)",
        "wait-for-nodes": "when another session holds (leases) nodes this one needs, wait up to "
                          "SECONDS for them instead of failing at once (default 0)",
    },
    iterable=["param", "secret"],
)
def test(c, name, cluster="localhost", timeout=None, results_dir=None,
         max_parallel=None, retries=None, strict=False, collect_only=False, param=None, params=None,
         globals=None, secret=None, wait_for_nodes=None):  # noqa: A002 - ducktape's name for the option
    """Run scenario tests and write results/<session>/ reports.

    invoke makes positional arguments required, so every scenario module is ``invoke test all``
    and the failures of the latest session are ``invoke test failed``. SIGINT, SIGTERM and
    SIGHUP stop the session the same way (exit 130, 143, 129).
    """
    with stoppable(), user_errors():
        if name.startswith("-"):  # invoke hands a required positional the next token, even --help
            raise ConfigError(f"`invoke test` needs a test name before {name}: NAME, all or failed "
                              "(help: `invoke --help test`)")
        options = session_run.parse_options(cluster, timeout, results_dir, max_parallel, retries,
                                            strict, param, params, globals, secret, wait_for_nodes)
        if name == "failed":
            selections = session_run.failed_last_time(options.results_root)
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
        "old": "the earlier session(s): session ids under the results folder, session folders or "
               "'latest'; or several, comma-separated (e.g. sessions of one build): when both sides are "
               "several, each session's median counts once",
        "new": "the later session(s), the same way (the comparison is written into the last one)",
        "threshold": f"minimum effect: flag only changes of the median beyond this many percent "
                     f"(default {DEFAULT_THRESHOLD:g})",
        "confidence": f"flag only changes significant at this confidence, 0-1 (Mann-Whitney U over "
                      f"the repeats or sessions; default {DEFAULT_CONFIDENCE:g})",
        "results-dir": "where session folders are (default: results/ in the workspace)",
    },
)
def compare(c, old, new, threshold=None, confidence=None, results_dir=None):
    """Compare two sessions' (or two groups of sessions') returned figures, judging each change
    by the spread of its repeats and the figure's better direction; write and plot the result."""
    with user_errors():
        # parsed here, not by invoke (whose float() would end in a traceback on bad input)
        threshold = _number("--threshold", DEFAULT_THRESHOLD if threshold is None else threshold,
                            "a percentage, e.g. 5", lambda v: v >= 0)
        confidence = _number("--confidence", DEFAULT_CONFIDENCE if confidence is None else confidence,
                             "between 0 and 1, e.g. 0.95", lambda v: 0 < v < 1)
        results_dir = results_dir or default_results()
        old_paths, new_paths = resolve_many(results_dir, old), resolve_many(results_dir, new)
        rows = write_comparison(old_paths, new_paths, threshold, confidence)
    print(f"{side_name([os.path.basename(p) for p in old_paths])} -> "
          f"{side_name([os.path.basename(p) for p in new_paths])}\n")
    print(render_table(rows, threshold, confidence))
    print(f"written to {new_paths[-1]}: {TEXT}, {JSON}, {PLOT}; report.html shows them")


@task(help={"results-dir": "where session folders are (default: results/ in the workspace)"})
def history(c, results_dir=None):
    """Print the change points of every figure (with a unit) across all sessions, naming the
    sessions and builds on both sides, and rewrite results/index.html, which marks them."""
    with user_errors():
        results_dir = results_dir or default_results()
        if not os.path.isdir(results_dir):
            raise ConfigError(f"no results folder {results_dir}: run `invoke test NAME` first, or "
                              "point --results-dir at one")
        text = render_history(results_dir)
        page = write_index(results_dir)
    print(text)
    print(f"index: {page}")


def _number(flag: str, value: object, wanted: str, ok) -> float:
    """``value`` as a float for which ``ok`` holds, else a ConfigError naming the flag."""
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not ok(number):
        raise ConfigError(f"{flag} {value!r} is not {wanted}")
    return number
