"""``invoke test``: run scenario modules from ducttape/tests/."""

from __future__ import annotations

from invoke import task
from invoke.exceptions import Exit

from ducttape.cli import user_errors
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.runner.session_run import DEFAULT_RESULTS, run_session


@task(
    positional=["name"],
    help={
        "name": "NAME, NAME::Class or NAME::Class.method of ducttape/tests/NAME.py, or a path to a .py file (default: all)",
        "cluster": "localhost (default, 8 logical nodes), localhost:N, or json:FILE",
        "timeout": f"seconds each test may take before it fails (default {DEFAULT_TEST_TIMEOUT:g})",
        "results_dir": "where session folders go (default: results/ in the repository)",
    },
)
def test(c, name=None, cluster="localhost", timeout=DEFAULT_TEST_TIMEOUT, results_dir=DEFAULT_RESULTS):
    """Run scenario tests and write results/<session>/ reports."""
    with user_errors():
        code = run_session(name, cluster, float(timeout), results_dir)
    if code:
        raise Exit(code=code)
