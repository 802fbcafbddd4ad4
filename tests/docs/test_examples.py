"""The scenarios shown in README.md and docs/ are real files under docs/examples/ (or
ducttape/tests/), equal to the blocks that show them, and each one runs and passes."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from support import REPO, run_cli

from ducttape.remote import DEFAULT_TIMEOUT, RemoteAccount
from ducttape.runner.runner import DEFAULT_TEST_TIMEOUT
from ducttape.services import DEFAULT_WAIT_TIMEOUT, STOP_TIMEOUT

EXAMPLES = sorted((Path(REPO) / "docs" / "examples").glob("*.py"))
GUIDE = Path(REPO) / "docs" / "writing-a-scenario.md"
MARKER = re.compile(r"<!-- example: (\S+) -->\n```python\n(.*?)```\n", re.S)
BLOCK = re.compile(r"```python\n(.*?)```\n", re.S)
SCENARIO = re.compile(r"^class \w+\((\w+\.)?\w*Test\)|^\s*@cluster\(", re.M)
"""A block that defines a Test class or marks a test method shows a scenario."""


def documents() -> list[Path]:
    docs = Path(REPO) / "docs"
    return [Path(REPO) / "README.md"] + sorted(p for p in docs.rglob("*.md")
                                               if "reference" not in p.relative_to(docs).parts)


def test_every_scenario_block_is_an_example_file_word_for_word():
    included = set()
    for doc in documents():
        text = doc.read_text()
        marked = {m.start(2): m for m in MARKER.finditer(text)}
        for block in BLOCK.finditer(text):
            line = text.count("\n", 0, block.start()) + 1
            where = f"{doc.relative_to(REPO)}:{line}"
            mark = marked.get(block.start(1))
            if mark is None:
                assert not SCENARIO.search(block.group(1)), \
                    f"{where}: a scenario block must be a file: put <!-- example: PATH --> above it"
                continue
            path = Path(REPO) / mark.group(1)
            assert path.is_file(), f"{where}: {mark.group(1)} does not exist"
            assert block.group(1) == path.read_text(), \
                f"{where}: the block differs from {mark.group(1)}: copy the file into it"
            assert re.search(r"^from ducttape\.", block.group(1), re.M), f"{where}: no imports shown"
            included.add(path)
    assert set(EXAMPLES) <= included, \
        f"examples no document shows: {sorted(str(p) for p in set(EXAMPLES) - included)}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_each_example_runs_and_passes(example, tmp_path):
    results = tmp_path / "results"
    proc = run_cli("test", str(example.relative_to(REPO)), "--results-dir", str(results),
                   "--param", "size_mb=2", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(results / "latest" / "report.json") as f:
        tests = json.load(f)["tests"]
    assert tests and all(t["status"] == "PASS" for t in tests), proc.stdout
    assert all(t["data"] for t in tests), "every example returns what it found"
    if example.stem == "parameters":  # the session parameter reached every case
        assert {t["data"].get("size_mb") for t in tests if "hash" in t["method"]} == {2}
        assert len(tests) == 6, [t["test_id"] for t in tests]


def test_the_guide_states_the_real_defaults_and_links_the_reference():
    text = GUIDE.read_text()
    wait_default = inspect.signature(RemoteAccount.wait_for_http).parameters["timeout"].default
    for what, seconds in [("a remote command", DEFAULT_TIMEOUT), ("a wait", wait_default),
                          ("Service.wait", DEFAULT_WAIT_TIMEOUT), ("a stop", STOP_TIMEOUT),
                          ("a test", DEFAULT_TEST_TIMEOUT)]:
        assert f"| {seconds:g} s |" in text, f"the guide's timeout table lacks {what}: {seconds:g} s"
    assert "reference/index.html" in text and "invoke docs" in text
