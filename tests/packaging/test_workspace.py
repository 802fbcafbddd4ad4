"""The workspace: ducttape finds a team's project folder (projects.yaml) from where it runs, or
from --workspace / $DUCTTAPE_WORKSPACE; `ducttape init` makes one; outside one, every command
that needs it says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

from ducttape.errors import ConfigError
from ducttape.workspace import PACKAGED_VAGRANT, Workspace, find_workspace


def ducttape(*args, cwd, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ducttape", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_found_from_the_folder_or_a_parent(tmp_path, monkeypatch):
    monkeypatch.delenv("DUCTTAPE_WORKSPACE", raising=False)
    (tmp_path / "projects.yaml").write_text("projects: []\n")
    deep = tmp_path / "tests" / "deeper"
    deep.mkdir(parents=True)
    assert find_workspace(deep) == Workspace(tmp_path)
    assert find_workspace(tmp_path).results_dir == tmp_path / "results"
    with pytest.raises(ConfigError, match="run `ducttape init`"):
        find_workspace("/")
    monkeypatch.setenv("DUCTTAPE_WORKSPACE", str(tmp_path))
    assert find_workspace("/") == Workspace(tmp_path)


def test_the_checkout_is_a_workspace_with_its_own_vagrantfile():
    ws = find_workspace(REPO)
    assert ws.root == Path(REPO).resolve()
    assert ws.vagrantfile_dir == ws.root and ws.build_dir == ws.root / "build"


def test_a_workspace_without_a_vagrantfile_uses_ducttapes(tmp_path):
    (tmp_path / "projects.yaml").write_text("projects: []\n")
    ws = Workspace(tmp_path)
    assert ws.vagrantfile_dir == PACKAGED_VAGRANT and (PACKAGED_VAGRANT / "Vagrantfile").is_file()
    assert ws.node_script == PACKAGED_VAGRANT / "base.sh"


@pytest.mark.parametrize("args", [("test", "tests/"), ("build",), ("history",), ("cluster.status",)])
def test_outside_a_workspace_one_line_naming_init(tmp_path, args):
    line = one_line_error(ducttape(*args, cwd=tmp_path, env={"DUCTTAPE_WORKSPACE": ""}))
    assert f"{tmp_path} is in no ducttape workspace" in line and "`ducttape init`" in line
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_named_folder_that_is_no_workspace(tmp_path):
    line = one_line_error(ducttape("--workspace", str(tmp_path), "test", "x", cwd=REPO))
    assert "is no ducttape workspace" in line and f"ducttape init {tmp_path}" in line
    line = one_line_error(ducttape("test", "x", cwd=REPO, env={"DUCTTAPE_WORKSPACE": str(tmp_path)}))
    assert "is no ducttape workspace" in line


def test_init_writes_a_starter_and_changes_nothing_the_second_time(tmp_path):
    target = tmp_path / "perf"
    first = ducttape("init", str(target), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    made = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert made == [".gitignore", "Vagrantfile.local.example", "ec2.yaml.example", "projects.yaml",
                    "tests/zookeeper_test.py"]
    assert "org.apache.zookeeper:zookeeper:" in (target / "projects.yaml").read_text()
    assert "/results/" in (target / ".gitignore").read_text().splitlines()
    (target / "projects.yaml").write_text("projects: []  # the team's own\n")
    (target / "tests" / "zookeeper_test.py").unlink()
    second = ducttape("init", cwd=target)
    assert second.returncode == 0, second.stderr
    assert (target / "projects.yaml").read_text() == "projects: []  # the team's own\n"
    assert (target / "tests" / "zookeeper_test.py").is_file()  # the missing one only
    assert "kept projects.yaml, .gitignore, Vagrantfile.local.example, ec2.yaml.example" in second.stdout
    third = ducttape("init", str(target), cwd=tmp_path)
    assert "is a workspace already; nothing written" in third.stdout
    collect = ducttape("test", "tests/", "--collect-only", cwd=target)
    assert "zookeeper_test::ZooKeeperTest.test_write_and_read" in collect.stdout, collect.stderr
    line = one_line_error(ducttape("test", "tests/", cwd=target / "tests"))
    assert "unknown test 'tests/': there is no such file or folder" in line


def test_init_into_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    line = one_line_error(ducttape("init", str(tmp_path / "f"), cwd=tmp_path))
    assert "is a file, not a folder" in line


def test_scenario_by_name_from_the_workspace_then_ducttapes(tmp_path):
    (tmp_path / "projects.yaml").write_text("projects: []\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "mine.py").write_text(
        "from ducttape.runner import Test, cluster\n\n\nclass Mine(Test):\n"
        "    @cluster(num_nodes=1)\n    def test_it(self):\n        pass\n")
    own = ducttape("test", "mine", "--collect-only", cwd=tmp_path)
    assert "mine::Mine.test_it" in own.stdout, own.stderr
    shipped = ducttape("test", "sample_services", "--collect-only", cwd=tmp_path)
    assert "sample_services::SampleServicesTest.test_bounce" in shipped.stdout, shipped.stderr
    line = one_line_error(ducttape("test", "nosuch", cwd=tmp_path))
    assert "there is no tests/nosuch.py" in line and "mine" in line


def test_hints_name_the_command_that_ran(tmp_path):
    """A hint says what to type: `ducttape TASK` from the ducttape command, `invoke TASK` from
    invoke in ducttape's checkout."""
    (tmp_path / "projects.yaml").write_text("projects: []\n")
    missing = tmp_path / "no-results"
    line = one_line_error(ducttape("history", "--results-dir", str(missing), cwd=tmp_path))
    assert line == f"error: no results folder {missing}: run `ducttape test NAME` first, or point --results-dir at one"
    proc = subprocess.run([sys.executable, "-m", "invoke", "history", "--results-dir", str(missing)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert one_line_error(proc) == line.replace("`ducttape test", "`invoke test")
