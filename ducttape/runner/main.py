"""``python -m ducttape.tests.NAME``: run one scenario module without invoke, as in the seed."""

from __future__ import annotations

import argparse
import sys

from ducttape.errors import DucttapeError
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.runner.session_run import DEFAULT_RESULTS, run_session


def main(module_name: str) -> None:
    """Run every test of scenario module ``module_name`` (a ``__name__`` or ``__spec__.name``)."""
    short = module_name.rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser(prog=f"python -m ducttape.tests.{short}")
    parser.add_argument("--cluster", default="localhost", help="localhost, localhost:N or json:FILE")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TEST_TIMEOUT)
    parser.add_argument("--results-dir", default=DEFAULT_RESULTS)
    args = parser.parse_args()
    try:
        code = run_session(short, args.cluster, args.timeout, args.results_dir)
    except DucttapeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    sys.exit(code)
