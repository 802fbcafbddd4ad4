"""Helpers of the Kafka tests: `invoke test` in a private scratch area, reports, leftovers."""

from __future__ import annotations

import json
import os
import subprocess

from support import REPO, run_cli

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
TIMEOUT = 1800  # the machine is shared with other builds: generous


def invoke_test(tmp_path, *args: str, env: dict | None = None,
                timeout: float = TIMEOUT) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Run `invoke test ARGS` with results and the localhost nodes' scratch dirs under
    ``tmp_path`` (TMPDIR), so every process it starts has ``tmp_path`` in its command line;
    return the process and the session's report.json (None when none was written)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    results = tmp_path / "results"
    proc = run_cli("test", *args, "--results-dir", str(results),
                   env={"TMPDIR": str(scratch), **(env or {})}, timeout=timeout)
    report = results / "latest" / "report.json"
    return proc, json.loads(report.read_text()) if report.exists() else None


def session_dir(tmp_path) -> str:
    return os.path.realpath(tmp_path / "results" / "latest")


def leftovers(marker) -> list[str]:
    """Processes whose command line has ``marker`` (a test's tmp_path), other than this one."""
    out = subprocess.run(["pgrep", "-af", str(marker)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if int(line.split()[0]) != os.getpid()]


def by_method(report: dict) -> dict[str, dict]:
    return {t["test_id"].split("::", 1)[1]: t for t in report["tests"]}


__all__ = ["REPO", "SCENARIOS", "by_method", "invoke_test", "leftovers", "session_dir"]
