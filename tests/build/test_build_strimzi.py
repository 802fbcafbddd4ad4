"""The default projects.yaml from a fresh clone of this repository: `invoke build --update` clones
the Strimzi Kafka Bridge through GitPython (from the mirror that the suite maps github.com to, when
there is one), builds it with Maven and resolves the released projects; the next build is a no-op."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import git
import pytest

from build_helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.maven]

URL = "https://github.com/strimzi/strimzi-kafka-bridge.git"


def invoke(clone, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DUCTTAPE_BUILD_DIR"}  # the clone's own build/
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def line_of(stdout: str, name: str) -> str:
    lines = [ln for ln in stdout.splitlines() if ln.split(" ", 1)[0] == name]
    assert len(lines) == 1, stdout
    return lines[0]


def test_fresh_clone_builds_strimzi_from_git_then_does_nothing(tmp_path):
    clone = tmp_path / "ducttape"
    git.Repo.clone_from(REPO, clone)
    # What the pinned tag is upstream, asked through the same URL (and mapping) the build uses.
    refs = {name: sha for sha, name in (ln.split("\t") for ln in git.cmd.Git().ls_remote(URL).splitlines())}
    tag = refs.get("refs/tags/0.33.1^{}") or refs["refs/tags/0.33.1"]  # the commit, for an annotated tag too

    cold = invoke(clone, "build", "--update")
    assert cold.returncode == 0, cold.stdout + cold.stderr
    print(cold.stdout)
    bridge = line_of(cold.stdout, "strimzi-kafka-bridge")
    assert f"cloned {URL} at 0.33.1 = {tag[:12]}" in bridge and " built (" in bridge
    entry = json.loads((clone / "build" / "manifest.json").read_text())["projects"]["strimzi-kafka-bridge"]
    assert (entry["kind"], entry["url"], entry["ref"], entry["git_sha"], entry["status"]) == (
        "git", URL, "0.33.1", tag, "ok")
    assert entry["version"] == "0.33.1" and entry["main_classes"] == {"bridge": "io.strimzi.kafka.bridge.Application"}
    checkout = git.Repo(clone / "build" / "strimzi-kafka-bridge")
    assert checkout.head.commit.hexsha == tag and checkout.remotes.origin.url == URL
    assert checkout.git.status("--porcelain") == ""  # libs/ and bin/run-class are not changes
    libs = list((clone / "build" / "strimzi-kafka-bridge" / "libs").glob("*.jar"))
    assert any(j.name == "kafka-bridge-0.33.1.jar" for j in libs)
    assert any(j.name.startswith("kafka-clients-4.1.") for j in libs)
    for name in ("kafka", "zookeeper"):
        assert line_of(cold.stdout, name).split(")", 1)[1].strip().startswith("built")

    # Nothing changed: no git, no Maven, no network.
    t0 = time.monotonic()
    warm = invoke(clone, "build")
    wall = time.monotonic() - t0
    assert warm.returncode == 0, warm.stdout + warm.stderr
    summary = warm.stdout.splitlines()[-1]
    print(f"{summary} (whole command {wall:.2f}s, load {os.getloadavg()[0]:.1f})")
    assert summary.startswith("build: 4 up to date in ")  # kafka-dev (kafkatest) is the fourth
    assert float(summary.split(" in ")[1].split("s;")[0]) < 1.0
    assert wall < 10  # the command as a whole (Python start-up and imports included), on a busy machine
