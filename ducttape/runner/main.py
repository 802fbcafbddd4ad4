"""``python -m ducttape.tests.NAME``: run one scenario module without invoke, as in the seed."""

from __future__ import annotations

import argparse
import sys

from ducttape.errors import DucttapeError
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.runner.session_run import parse_options, run_session


def main(module_name: str) -> None:
    """Run every test of scenario module ``module_name`` (a ``__name__`` or ``__spec__.name``)."""
    short = module_name.rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser(prog=f"python -m ducttape.tests.{short}")
    parser.add_argument("--cluster", default="localhost", help="localhost, localhost:N, json:FILE, vagrant or aws")
    parser.add_argument("--timeout", help=f"seconds per test (default {DEFAULT_TEST_TIMEOUT:g})")
    parser.add_argument("--results-dir", help="where session folders go (default: results/ in the workspace)")
    parser.add_argument("--max-parallel", help="tests at once (default 1)")
    parser.add_argument("--retries", help="reruns of a failed test (default 0)")
    parser.add_argument("--param", action="append", help="key=value for the tests (repeatable)")
    parser.add_argument("--params", help="a JSON file of parameters for the tests")
    parser.add_argument("--wait-for-nodes", help="seconds to wait for nodes another session holds")
    args = parser.parse_args()
    try:
        code = run_session(
            [short],
            parse_options(
                args.cluster,
                args.timeout,
                args.results_dir,
                args.max_parallel,
                args.retries,
                params=args.param,
                params_file=args.params,
                wait_for_nodes=args.wait_for_nodes,
            ),
        )
    except DucttapeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    sys.exit(code)
