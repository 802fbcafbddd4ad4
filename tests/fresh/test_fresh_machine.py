"""The README's first quick-start command on a bare Debian 12 machine, as a new user runs it.

A debootstrap minbase root (no python3, JDK, Maven or git) with this machine's package-manager
settings and Docker socket, a fresh clone of the committed HEAD and the git mirrors mounted
inside; the command runs there under chroot and must write the main job's reports, which must
hold what tests/native_vs_rest_checks.py asks of the headline scenario at its defaults (this is
the suite's end-to-end test of that scenario). Then install.sh runs once more there and must do
no package work and say so.
"""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ducttape.build import manifest
from fresh_root import FreshRoot, mounts_under
from native_vs_rest_checks import check_session
from support import REPO, git_mirror_env, git_mirrors

pytestmark = [pytest.mark.fresh, pytest.mark.slow, pytest.mark.chromium]

INSIDE_REPO = "/work/ducttape"
INSIDE_MIRRORS = "/work/shared/git"  # <repository>/../shared/git inside the root, too
RUN_TIMEOUT = 3600  # packages, pip, Maven and the scenario on a busy 2-core machine


def quick_start_commands():
    """The commands of README.md's quick start (indented lines starting with ./install.sh)."""
    text = Path(REPO, "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^ {4}(\./install\.sh .+)$", section, re.M)


def fresh_clone(target):
    """A clone of the repository's committed HEAD (what a new user gets), at ``target``."""
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True, timeout=30).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", REPO, str(target)],
                   check=True, timeout=300)
    subprocess.run(["git", "-C", str(target), "checkout", "--quiet", "--detach", head],
                   check=True, timeout=300)
    return head


@pytest.mark.timeout(RUN_TIMEOUT + 900)
def test_readme_first_command_on_bare_debian(tmp_path):
    commands = quick_start_commands()
    assert len(commands) == 2, f"README.md's quick start should show two commands: {commands}"
    command = commands[0]
    clone = tmp_path / "clone"
    head = fresh_clone(clone)
    log_path = tmp_path / "fresh-machine.log"
    env = {"HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb",
           "DUCTTAPE_LOCALHOST_NET": os.environ.get("DUCTTAPE_LOCALHOST_NET", "127.0.1")}
    mirrors = git_mirrors()
    if mirrors:
        env.update(git_mirror_env(INSIDE_MIRRORS))
    root_path = tmp_path / "root"
    timings = {}

    started = time.monotonic()
    try:
        with FreshRoot(root_path) as root:
            timings["bare root"] = time.monotonic() - started
            for tool in ("usr/bin/python3", "usr/bin/java", "usr/bin/mvn", "usr/bin/git"):
                assert not (root.path / tool).exists(), f"{tool} is in the bare root already"
            root.bind(clone, INSIDE_REPO.lstrip("/"))
            if mirrors:
                root.bind(mirrors, INSIDE_MIRRORS.lstrip("/"), read_only=True)
            ran = time.monotonic()
            with open(log_path, "w") as log:
                status = root.run(f"cd {INSIDE_REPO} && {command}", env, log, RUN_TIMEOUT)
                timings["command"] = time.monotonic() - ran
            with open(tmp_path / "install-again.log", "w") as log:
                again = root.run(f"cd {INSIDE_REPO} && ./install.sh", env, log, 300)
        timings["total"] = time.monotonic() - started
        assert mounts_under(root_path) == [] and not root_path.exists()

        output = log_path.read_text()
        print(f"\nfresh machine ({head[:7]}): "
              + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
              + "; inside: " + ", ".join(f"{what} at {at}" for what, at in milestones(output)))
        assert status == 0, f"`{command}` in the bare root: exit {status}\n{output[-6000:]}"
        assert root.leftovers == [], f"still running inside the root afterwards: {root.leftovers}"
        lines = [line.split("] ", 1)[1] for line in output.splitlines()]
        assert lines[0] == "[install] apt-get update", f"install.sh in a bare root began: {lines[0]}"
        session = os.path.realpath(clone / "results" / "latest")
        report = json.loads(Path(session, "report.json").read_text())
        assert report["tests"] and {t["status"] for t in report["tests"]} == {"PASS"}, report["tests"]
        bridge = manifest.read(clone / "build")["strimzi-kafka-bridge"]
        check_session(session, report, output, bridge["git_sha"], str(tmp_path))

        # install.sh once more on the now installed machine: no package work, and it says so.
        second = [line.split("] ", 1)[1] for line in
                  (tmp_path / "install-again.log").read_text().splitlines()]
        assert again == 0, second
        assert any("no apt work" in line for line in second), second
        assert any("no pip work" in line for line in second), second
        assert not any("apt-get" in line or "pip install" in line for line in second), second
    finally:
        shutil.rmtree(clone, ignore_errors=True)  # the log stays in tmp_path


def milestones(output):
    """When (seconds into the command) install.sh, the build and the tests finished."""
    marks = {"install.sh": "[install] done", "invoke build": "build: ",
             "invoke test": " passed, "}
    found = []
    for what, text in marks.items():
        at = next((line.split("]", 1)[0].strip("[ ") for line in output.splitlines()
                   if text in line), None)
        if at:
            found.append((what, at))
    return found
