"""``test``, ``compare``, ``history``: run scenarios and read their results."""

from __future__ import annotations

import os

from invoke import task
from invoke.exceptions import Exit

from ducttape.cli import user_errors
from ducttape.command_line import command
from ducttape.errors import ConfigError
from ducttape.runner import flags, kept, session_run
from ducttape.runner.compare import (
    DEFAULT_CONFIDENCE,
    DEFAULT_THRESHOLD,
    JSON,
    PLOT,
    TEXT,
    render_table,
    resolve_many,
    side_name,
    write_comparison,
)
from ducttape.runner.config_file import with_defaults as config_file_defaults
from ducttape.runner.history import render_history
from ducttape.runner.reports.index import write_index
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.runner.session_run import default_results
from ducttape.stopping import stoppable


@task(
    positional=["name"],
    help={
        "name": "NAME, NAME::Class, NAME::Class.method or NAME::Class.method[k=v,...] of "
        "the scenario NAME (tests/NAME.py of the workspace, or one of ducttape's), "
        "a path to a .py file (ducktape-style modules too) or to a "
        "folder of test modules (test_*.py, *_test.py), a test suite file (.yml: ducktape's "
        "format), 'all' for every scenario module, or "
        "'failed' for the tests that failed in the latest session",
        "cluster": "localhost (default, 8 logical nodes), localhost:N, localhost:TYPE=N,... (typed "
        "nodes), json:FILE, vagrant (invoke cluster.up) or aws (invoke cluster.up --aws)",
        "timeout": f"seconds each test may take before it fails (default {DEFAULT_TEST_TIMEOUT:g})",
        "results-dir": "where session folders go (default: results/ in the workspace)",
        "max-parallel": "run up to N tests at once, each on its own nodes (default 1)",
        "retries": "run a failed test up to N more times; a later pass is reported FLAKY (default 0)",
        "strict": "refuse tests that declare no node need instead of warning",
        "collect-only": "list the tests, their cases and node needs; run nothing",
        "collect-num-nodes": "print the nodes the selected tests ask for (in all, the most at "
        "once, per node type); run nothing",
        "param": "key=value for the tests (self.params; repeatable; values read as JSON where they can)",
        "params": "a JSON file of parameters for the tests (an object; --param values win)",
        "globals": "ducktape's --globals: a JSON object, or a file holding one, that ducktape-style "
        "tests see as test_context.globals (they are the session's parameters; --param wins)",
        "secret": "KEY of a parameter or global whose value is secret: shown as *** in logs, reports "
        "and here (repeatable; keys named like *password*, *secret*, *token* are already)",
        "exclude": "leave out these tests (the syntax of NAME; repeatable)",
        "tags": "run only the tests whose @tag names match, e.g. 'kafka and not slow' (and, or, not, parentheses)",
        "repeat": "run every selected test N times (default 1)",
        "sample": "run N of the selected tests drawn at random; the session records the seed",
        "seed": "the seed of --sample (the same seed draws the same tests)",
        "subsets": "split the selected tests into N subsets of about equal run time (from past "
        "durations) and run one of them (--subset)",
        "subset": "which subset of --subsets to run, from 0 (default 0)",
        "historical-report": "a report.json (ducttape's or ducktape's; a file or http(s) URL) whose "
        "durations balance --subsets (default: the sessions in the results folder)",
        "exit-first": "start no more tests after the first failure (the rest are reported NOT-RUN)",
        "no-teardown": "leave the services of the last test running and print how to reach its "
        "nodes; `invoke cluster.clean` ends them",
        "fail-bad-cluster-utilization": "fail a test that never used all the nodes it declared",
        "logs": "which service logs to collect: declared (default: ducktape's rule, after a pass the "
        "logs a service collects by default or the test marked, after a failure all), always, "
        "or failed (only of failed tests)",
        "compress": "compress logs on the nodes before copying them (kept as .gz)",
        "jvm-logs": "gc and safepoint logs, heap dump on OutOfMemoryError and crash log of every "
        "JVM the tests start, collected into <test>/jvm-logs/",
        "config-file": "a file of default flags (default ~/.ducttape/config; the workspace's "
        ".ducttape/config is read first, the command line wins)",
        "wait-for-nodes": "when another session holds (leases) nodes this one needs, wait up to "
        "SECONDS for them instead of failing at once (default 0)",
    },
    iterable=["param", "secret", "exclude"],
)
def test(
    c,
    name,
    cluster="localhost",
    timeout=None,
    results_dir=None,
    max_parallel=None,
    retries=None,
    strict=False,
    collect_only=False,
    param=None,
    params=None,
    globals=None,  # noqa: A002 - ducktape's name for the option
    secret=None,
    exclude=None,
    tags=None,
    repeat=None,
    sample=None,
    seed=None,
    subsets=None,
    subset=None,
    historical_report=None,
    exit_first=False,
    no_teardown=False,
    fail_bad_cluster_utilization=False,
    collect_num_nodes=False,
    logs=None,
    compress=False,
    jvm_logs=False,
    config_file=None,
    wait_for_nodes=None,
):
    """Run scenario tests and write results/<session>/ reports.

    invoke makes positional arguments required, so every scenario module is ``invoke test all``
    and the failures of the latest session are ``invoke test failed``. SIGINT, SIGTERM and
    SIGHUP stop the session the same way (exit 130, 143, 129).
    """
    given = {k: v for k, v in locals().items() if k not in ("c", "name", "config_file")}
    with stoppable(), user_errors():
        if name.startswith("-"):  # invoke hands a required positional the next token, even --help
            raise ConfigError(
                f"`{command()} test` needs a test name before {name}: NAME, all or failed "
                f"(help: `{command()} --help test`)"
            )
        a = config_file_defaults(test, given, config_file)
        options = session_run.parse_options(
            a["cluster"],
            a["timeout"],
            a["results_dir"],
            a["max_parallel"],
            a["retries"],
            a["strict"],
            a["param"],
            a["params"],
            a["globals"],
            a["secret"],
            a["wait_for_nodes"],
        )
        options.selection = flags.parse_selection(
            a["exclude"],
            a["tags"],
            a["repeat"],
            a["sample"],
            a["seed"],
            a["subsets"],
            a["subset"],
            a["historical_report"],
        )
        options.settings = flags.parse_settings(
            a["logs"],
            a["compress"],
            a["jvm_logs"],
            a["fail_bad_cluster_utilization"],
            a["exit_first"],
            a["no_teardown"],
        )
        if name == "failed":
            selections = session_run.failed_last_time(options.results_root)
        else:
            selections = None if name == "all" else [name]
        if a["collect_only"] or a["collect_num_nodes"]:
            code = session_run.collect_only(selections, options, nodes_only=a["collect_num_nodes"])
        else:
            code = session_run.run_session(selections, options)
    if code:
        raise Exit(code=code)


@task(help={"results-dir": "where session folders are (default: results/ in the workspace)"})
def clean(c, results_dir=None):
    """Stop what `invoke test --no-teardown` left running (the latest session's kept.json): its
    services (their logs collected into the test's results), the test's processes, the folders
    a localhost cluster kept."""
    with user_errors():
        for line in kept.clean(results_dir or default_results()):
            print(line)


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
        threshold = _number(
            "--threshold",
            DEFAULT_THRESHOLD if threshold is None else threshold,
            "a percentage, e.g. 5",
            lambda v: v >= 0,
        )
        confidence = _number(
            "--confidence",
            DEFAULT_CONFIDENCE if confidence is None else confidence,
            "between 0 and 1, e.g. 0.95",
            lambda v: 0 < v < 1,
        )
        results_dir = results_dir or default_results()
        old_paths, new_paths = resolve_many(results_dir, old), resolve_many(results_dir, new)
        rows = write_comparison(old_paths, new_paths, threshold, confidence)
    print(
        f"{side_name([os.path.basename(p) for p in old_paths])} -> "
        f"{side_name([os.path.basename(p) for p in new_paths])}\n"
    )
    print(render_table(rows, threshold, confidence))
    print(f"written to {new_paths[-1]}: {TEXT}, {JSON}, {PLOT}; report.html shows them")


@task(help={"results-dir": "where session folders are (default: results/ in the workspace)"})
def history(c, results_dir=None):
    """Print the change points of every figure (with a unit) across all sessions, naming the
    sessions and builds on both sides, and rewrite results/index.html, which marks them."""
    with user_errors():
        results_dir = results_dir or default_results()
        if not os.path.isdir(results_dir):
            raise ConfigError(
                f"no results folder {results_dir}: run `{command()} test NAME` first, or point --results-dir at one"
            )
        text = render_history(results_dir)
        page = write_index(results_dir)
    print(text)
    print(f"index: {page}")


def _number(flag: str, value: str | float, wanted: str, ok) -> float:
    """``value`` as a float for which ``ok`` holds, else a ConfigError naming the flag."""
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not ok(number):
        raise ConfigError(f"{flag} {value!r} is not {wanted}")
    return number
