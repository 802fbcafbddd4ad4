"""install.sh's answers when it cannot do its job: one line each, and the right exit code."""

import shutil
import subprocess

import pytest

from support import REPO


def test_as_non_root_one_line_exit_2():
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             "./install.sh"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "install.sh: must run as root (it installs Debian packages and starts dockerd); "
        "try: sudo ./install.sh"]


@pytest.mark.slow  # makes a virtualenv: 5-20 s
def test_failed_step_is_one_line_naming_it(tmp_path):
    shutil.copy2(f"{REPO}/install.sh", tmp_path / "install.sh")
    (tmp_path / "requirements.txt").write_text("this is not a requirement!\n")
    result = subprocess.run(["./install.sh"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("install.sh: step 'pip install -r requirements.txt into .venv' failed "
                           "(exit 1): "), line
    assert "Invalid requirement" in line and line.endswith(
        "full output in /var/log/ducttape-install.log"), line
    assert result.stdout.splitlines()[-1] == "[install] pip install -r requirements.txt into .venv"
    assert not (tmp_path / ".venv" / ".requirements.sha256").exists()  # a retry installs again
