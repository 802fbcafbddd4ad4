"""The README's first quick-start command on a bare Debian 12 machine, as a new user runs it.

A debootstrap minbase root (no python3, JDK, Maven or git) with this machine's package-manager
settings and Docker socket, a fresh clone of the committed HEAD and the git mirrors mounted
inside; the command runs there under chroot and must write the main job's reports.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from fresh_root import FreshRoot, mounts_under
from support import REPO, git_mirror_env, git_mirrors

pytestmark = [pytest.mark.fresh, pytest.mark.slow]

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
    with FreshRoot(root_path) as root:
        timings["bare root"] = time.monotonic() - started
        for tool in ("usr/bin/python3", "usr/bin/java", "usr/bin/mvn", "usr/bin/git"):
            assert not (root.path / tool).exists(), f"{tool} is in the bare root already"
        root.bind(clone, INSIDE_REPO.lstrip("/"))
        if mirrors:
            root.bind(mirrors, INSIDE_MIRRORS.lstrip("/"), read_only=True)
        ran = time.monotonic()
        with open(log_path, "w") as log:
            proc = root.popen(f"cd {INSIDE_REPO} && {command}", env, log)
            try:
                status = proc.wait(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                status = "timed out"  # FreshRoot kills what runs inside on exit
        timings["command"] = time.monotonic() - ran
    timings["total"] = time.monotonic() - started
    proc.wait(timeout=30)  # chroot itself ran inside the root; killed by now if it hung

    assert mounts_under(root_path) == [] and not root_path.exists()
    output = log_path.read_text()
    print(f"\nfresh machine ({head[:7]}): " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    assert status == 0, f"`{command}` in the bare root: exit {status}\n{output[-6000:]}"
    assert root.leftovers == [], f"still running inside the root after the command: {root.leftovers}"
    first = output.splitlines()[0]
    assert first.startswith("[install] apt-get"), f"install.sh found packages in a bare root: {first}"
    report = json.loads((clone / "results" / "latest" / "report.json").read_text())
    assert report["tests"] and all(t["status"] == "PASS" for t in report["tests"]), report["tests"]
    assert {t["status"] for t in report["tests"]} == {"PASS"}
    manifest = json.loads((clone / "build" / "manifest.json").read_text())
    assert manifest, "invoke build wrote an empty manifest"
