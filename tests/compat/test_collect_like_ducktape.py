"""`invoke test PATH --collect-only` finds what ducktape 0.12.0's `ducktape PATH --collect-only`
finds: the same test ids in the same order, the same node needs, the same cases ignored; on
tests/compat/dtloader (every discovery rule in one module) and on Kafka 4.1.1's whole kafkatest
tree (1,028 cases).

ducktape 0.12.0 runs in the virtualenv benchmarks/kafkatest_vs_ducktape.py uses (kafkatest's
requirements, made once from PyPI by benchmarks/env.py); its ids are made from its own output by
its own ``_escape_pathname``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import REPO, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

DTLOADER = os.path.join(REPO, "tests", "compat", "dtloader")
KAFKATEST = os.path.join(REPO, "build", "kafka-dev", "tests", "kafkatest")
KAFKATEST_CASES = 1028
# Run in ducktape's virtualenv: ducktape's collect-only lines on stdin, [id, nodes, ignored] out.
DUCKTAPE_IDS = r"""
import ast, json, re, sys
from ducktape.tests.test import _escape_pathname
line = re.compile(r"<module=(\S+), cls=(\w+), function=(\w+), injected_args=(.*), file=.*, "
                  r"ignore=(True|False), cluster_spec=(.*)>$")
found = []
for text in sys.stdin:
    m = line.search(text.strip())
    if m:
        module, cls, function, args, ignore, spec = m.groups()
        args = ast.literal_eval(args)
        params = "" if args is None else _escape_pathname(".".join("%s=%s" % kv for kv in args.items()))
        nodes = sum(node["num_nodes"] for node in json.loads(spec))
        found.append([".".join(p for p in (module, cls, function, params) if p), nodes, ignore == "True"])
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def ducktape012():
    """The python of ducktape 0.12.0's virtualenv, with kafka-dev built (its kafkatest pins
    the requirements)."""
    proc = run_cli("build", "--only=kafka-dev", timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    try:
        import env
        import kafkatest_vs_ducktape
        return env.ducktape_python(kafkatest_vs_ducktape.VENV, kafkatest_vs_ducktape.kafkatest_requirements())
    finally:
        sys.path.remove(os.path.join(REPO, "benchmarks"))


def ducktape_collects(python: str, folder: str, scratch) -> list[tuple[str, int, bool]]:
    """ducktape's (id, nodes, ignored) per case; its metadata and session folder go to ``scratch``."""
    top = os.path.dirname(folder)
    proc = subprocess.run([os.path.join(os.path.dirname(python), "ducktape"), folder, "--collect-only"],
                          cwd=scratch, env={**os.environ, "PYTHONPATH": top}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "Collected" in proc.stdout, proc.stdout + proc.stderr
    ids = subprocess.run([python, "-c", DUCKTAPE_IDS], input=proc.stdout, capture_output=True, text=True,
                         timeout=120)
    assert ids.returncode == 0, ids.stderr
    return [tuple(row) for row in json.loads(ids.stdout)]


def ducttape_collects(folder: str) -> list[tuple[str, int, bool]]:
    """(id, nodes, ignored) per line of the table; undeclared needs count 0, as in ducktape's."""
    proc = run_cli("test", folder, "--collect-only", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = []
    for line in proc.stdout.splitlines()[2:]:
        if not line.strip():
            break
        test_id, need = line.split(maxsplit=1)
        nodes = need.split()[0]
        rows.append((test_id, int(nodes) if nodes.isdigit() else 0, "(ignored)" in need))
    assert proc.stdout.rstrip().endswith(f"{len(rows)} tests"), proc.stdout[-500:]
    return rows


def diff(theirs: list, ours: list) -> str:
    ids_theirs, ids_ours = {r[0] for r in theirs}, {r[0] for r in ours}
    return (f"missing {sorted(ids_theirs - ids_ours)[:10]}, extra {sorted(ids_ours - ids_theirs)[:10]}, "
            f"different {[(a, b) for a, b in zip(theirs, ours, strict=False) if a != b][:5]}")


def test_every_discovery_rule_as_ducktape(ducktape012, tmp_path):
    theirs, ours = ducktape_collects(ducktape012, DTLOADER, tmp_path), ducttape_collects(DTLOADER)
    assert ours == theirs, diff(theirs, ours)
    assert len(ours) == 23 and sum(r[2] for r in ours) == 3  # @ignore, @ignore(x=2), @env


def test_kafkatest_collected_as_ducktape(ducktape012, tmp_path):
    theirs, ours = ducktape_collects(ducktape012, KAFKATEST, tmp_path), ducttape_collects(KAFKATEST)
    assert len(theirs) == KAFKATEST_CASES
    assert ours == theirs, diff(theirs, ours)
    assert any(r[0].endswith(".run_compatibility_test.broker_version=3.9.1.metadata_quorum=ISOLATED_KRAFT")
               for r in ours)
