"""A warning raised inside a library (as paramiko's DSA deprecation under a newer cryptography
was) goes to the debug log, not to the user's screen: every command's error stays one line.
ducttape's own warnings and the user's stay visible."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from support import REPO

NOISY = textwrap.dedent('''\
    """A library that warns while the command runs (at exit, after its error line)."""
    import atexit
    import warnings


    def _warn():
        warnings.warn("noisylib: this API is deprecated and will be removed", UserWarning)


    atexit.register(_warn)
    ''')

ERRORS = [
    (("test", "nosuch_scenario"), "unknown test 'nosuch_scenario'"),
    (("build", "--projects", "/nonexistent/projects.yaml"), "no such projects file"),
    (("compare", "nosuch1", "nosuch2"), "no session 'nosuch1'"),
    (("cluster.up", "--aws"), "ec2.yaml"),
    (("cluster.rsync",), "no Vagrantfile.local"),
    (("history",), "no results folder"),
]


@pytest.fixture(scope="module")
def noisy_python(tmp_path_factory):
    """A virtualenv that sees the test environment's packages and, in its own site-packages, a
    library that raises a UserWarning in every process: a python whose libraries are noisy."""
    venv = tmp_path_factory.mktemp("noisy") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    (venv / site / "noisylib.py").write_text(NOISY)
    (venv / site / "noisylib.pth").write_text("import noisylib\n")
    (venv / site / "outer.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return str(python)


def test_the_noisy_library_does_print_without_ducttape(noisy_python):
    proc = subprocess.run([noisy_python, "-c", "pass"], capture_output=True, text=True, timeout=30)
    assert "noisylib: this API is deprecated" in proc.stderr


@pytest.mark.parametrize("program", ["invoke", "ducttape"])
@pytest.mark.parametrize("args, expected", ERRORS, ids=[a[0] for a, _ in ERRORS])
def test_an_error_is_one_line_while_a_library_warns(noisy_python, tmp_path, program, args, expected):
    """Each command's error path, in an empty workspace (no cluster settings, no results)."""
    (tmp_path / "projects.yaml").write_text("projects: []\n")
    command = [noisy_python, "-m", program, *args]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DUCTTAPE_WORKSPACE": str(tmp_path)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("error: "), proc.stderr
    assert expected in proc.stderr


def test_own_and_user_warnings_stay_visible_library_ones_are_logged(tmp_path):
    """In one process: a warning attributed to a ducttape module and one to a user's file are
    printed; one attributed to a file of an installed library goes to the debug logger."""
    script = textwrap.dedent(f'''\
        import logging, os, sys, sysconfig, warnings
        from ducttape.library_warnings import route_library_warnings
        import ducttape.runner
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="LOG %(name)s %(message)s")
        route_library_warnings()
        warnings.warn_explicit("ours", UserWarning, ducttape.runner.__file__, 1)
        warnings.warn_explicit("users", UserWarning, {str(tmp_path / "my_scenario.py")!r}, 2)
        library = os.path.join(sysconfig.get_path("purelib"), "paramiko", "pkey.py")
        warnings.warn_explicit("theirs", UserWarning, library, 184)
        ''')
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "UserWarning: ours" in proc.stderr and "UserWarning: users" in proc.stderr
    assert "theirs" not in proc.stderr
    assert "LOG ducttape.library_warnings " in proc.stdout
    assert "paramiko/pkey.py:184: UserWarning: theirs" in proc.stdout
