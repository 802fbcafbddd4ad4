"""`invoke build` ended by a signal: Maven is stopped with it, and the exit status says which."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from build_helpers import REPO, write_projects
from support import descendants
from test_build_local import local_project

pytestmark = [pytest.mark.maven]


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_invoke_build_leaves_no_maven_process(tmp_path, sig, code):
    local_project(tmp_path / "hello", "hello")
    projects = write_projects(tmp_path / "p.yaml", """\
        projects:
          - {name: hello, path: hello}
        """)
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "build", "--projects", str(projects)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL,
                            env={**os.environ, "DUCTTAPE_BUILD_DIR": str(tmp_path / "build")})
    deadline = time.monotonic() + 120
    while not (maven := [p for p in descendants(proc.pid) if _is_maven(p)]):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.kill(proc.pid, sig)  # to invoke only, as `kill` or a service manager's stop does
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, out + err
    assert err.strip() == f"stopped by {signal.Signals(sig).name}", err
    assert [p for p in maven if _is_maven(p)] == [], "Maven still runs"


def _is_maven(pid: int) -> bool:
    """Is ``pid`` Maven's JVM (its class path names plexus-classworlds)?"""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"plexus-classworlds" in f.read()
    except OSError:
        return False
