"""The lint .ci/run does before the tests: `ruff check` on the code, tests, benchmarks and tasks.py,
`ruff format --check` on the code and `mypy ducttape` report nothing, with the settings of
pyproject.toml; a finding fails them (docs/development.md, "Lint and types")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

BIN = Path(sys.executable).parent  # the tools of the virtualenv that runs the tests
RUFF_PATHS = ["ducttape", "tests", "benchmarks", "tasks.py"]


def run(*cmd: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_ruff_finds_nothing():
    proc = run(BIN / "ruff", "check", "--no-cache", *RUFF_PATHS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_fails_on_a_finding(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f(x):\n    for i in range(3):\n        yield lambda: i\n")
    proc = run(BIN / "ruff", "check", "--no-cache", "--config", Path(REPO) / "pyproject.toml", bad)
    assert proc.returncode == 1
    assert "F401" in proc.stdout and "B023" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_mypy_finds_nothing():
    # with the checkout's .mypy_cache: after .ci/run's own mypy about 10 s, cold about a minute
    proc = run(BIN / "mypy", "ducttape", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Success: no issues found"), proc.stdout


@pytest.mark.slow
def test_mypy_fails_on_a_finding(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def port(text: str | None) -> int:\n    return int(text.strip())\n")
    proc = run(BIN / "mypy", "--config-file", Path(REPO) / "pyproject.toml", "--cache-dir", tmp_path / "cache",
               bad)
    assert proc.returncode == 1
    assert '[union-attr]' in proc.stdout, proc.stdout


def test_ci_lints_between_install_and_tests():
    """.ci/run's last command is the README's test command with both checks between its parts."""
    last = (Path(REPO) / ".ci" / "run").read_text().strip().splitlines()[-1]
    steps = [s.strip() for s in last.split("&&")]
    assert steps == ["./install.sh", f".venv/bin/ruff check {' '.join(RUFF_PATHS)}",
                     ".venv/bin/ruff format --check ducttape", ".venv/bin/mypy ducttape", ".venv/bin/pytest"], last


def test_the_code_is_formatted():
    proc = run(BIN / "ruff", "format", "--check", "--no-cache", "ducttape")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_format_check_fails_on_unformatted_code(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = {'a':1}\n")
    proc = run(BIN / "ruff", "format", "--check", "--no-cache", "--config", Path(REPO) / "pyproject.toml", bad)
    assert proc.returncode == 1 and "would be reformatted" in proc.stdout, proc.stdout
