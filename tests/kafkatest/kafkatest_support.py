"""What the kafkatest tests share: a 5-worker docker cluster of their own with the kafka-dev
build, and running one kafkatest case on it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from vagrant_copy import make_copy, remove_copy

REPO = Path(__file__).resolve().parents[2]
WORKERS = 5
BREADTH = "kafkatest_breadth"
"""The marker of the breadth suite (test_kafkatest_breadth.py), which runs only when named."""


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def kafkatest_cluster(tmp_path_factory):
    """(generator) A repository copy with the kafka-dev build and a 5-worker cluster up;
    destroyed after."""
    copy = make_copy(tmp_path_factory.mktemp("kafkatest") / "repo")
    try:
        ok(subprocess.run([sys.executable, "-m", "invoke", "build", "--only=kafka-dev"], cwd=REPO,
                          capture_output=True, text=True, timeout=1800))
        shutil.copytree(REPO / "build" / "kafka-dev", copy.root / "build" / "kafka-dev", symlinks=True,
                        ignore=shutil.ignore_patterns(".git"))
        shutil.copy2(REPO / "build" / "manifest.json", copy.root / "build" / "manifest.json")
        # all 5 at once: cluster.up makes the docker network before `vagrant up` brings them up
        copy.write_local(num_workers=WORKERS, ram_megabytes=1536)
        ok(copy.invoke("cluster.up", timeout=900))
        yield copy
    finally:
        remove_copy(copy)


def kafkatest_folder(copy) -> Path:
    return copy.root / "build" / "kafka-dev" / "tests" / "kafkatest"


def run_case(copy, case: str, results: Path, timeout: int = 600):
    """Run one kafkatest case (``PATH::Class.method[args]`` under kafkatest/) in a session of
    its own on the copy's cluster, from the kafka-dev folder as ducktape is run from Kafka's
    (kafkatest's connect services add the plugins they find under the current folder); the
    CompletedProcess."""
    return _run(copy, str(kafkatest_folder(copy) / case), results, timeout, timeout + 300)


def run_cases(copy, cases: list[str], results: Path, timeout: int = 600):
    """Run kafkatest cases (as for `run_case`) one after another in one session, as a user runs
    a suite (a ducktape suite file beside ``results``); the CompletedProcess."""
    suite = results.parent / f"{results.name}-suite.yml"
    suite.write_text(json.dumps({"cases": [str(kafkatest_folder(copy) / case) for case in cases]}))
    return _run(copy, str(suite), results, timeout, len(cases) * timeout + 300)


def _run(copy, selection: str, results: Path, timeout: int, session_timeout: int):
    return subprocess.run([sys.executable, "-m", "ducttape", "test", selection, "--cluster", "vagrant",
                           "--timeout", str(timeout), "--results-dir", str(results)],
                          cwd=copy.root / "build" / "kafka-dev", capture_output=True, text=True,
                          timeout=session_timeout)


def session_tests(results: Path) -> dict[str, tuple[Path, dict]]:
    """Every test of every session in ``results``: test id -> (session folder, its report entry)."""
    found = {}
    for report in sorted(p for p in results.glob("*/report.json") if not p.parent.is_symlink()):
        with open(report) as f:
            for test in json.load(f)["tests"]:
                found[test["test_id"]] = (report.parent, test)
    return found
