"""ducttape as a team installs it: a wheel built from this checkout, installed with pip into fresh
virtualenvs of Python 3.11, 3.12 and 3.13 (pyenv's), used from a workspace folder outside the
checkout. `ducttape init`, `build` (ZooKeeper from Maven Central) and `test tests/` work there;
build/ and results/ appear in the workspace and nothing is written into the checkout or into
site-packages."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support import REPO

pytestmark = [pytest.mark.slow, pytest.mark.maven]

PYTHONS = ("3.11", "3.12", "3.13")


def pyenv_python(version: str) -> str:
    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")))
    assert found, f"no Python {version} under ~/.pyenv/versions: these tests need pyenv's 3.11-3.13"
    return found[-1]


def run(*cmd, cwd, timeout=900, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if "__pycache__" not in p.parts and not p.is_dir()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # from a copy of the checkout's files: setuptools writes its build/lib into the source tree,
    # and the checkout's build/ is ducttape's build folder
    source = tmp_path_factory.mktemp("source")
    files = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).stdout
    for name in filter(None, files.split("\0")):
        if os.path.isfile(os.path.join(REPO, name)):
            os.makedirs(source / os.path.dirname(name), exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, source,
        cwd=out)
    [built] = out.glob("ducttape-*.whl")
    return built


@pytest.fixture(scope="module")
def venvs(wheel, tmp_path_factory) -> dict[str, Path]:
    """A fresh virtualenv per Python with the wheel installed (its dependencies resolved by pip
    from pyproject's ranges, as a team's install would); made side by side."""
    root = tmp_path_factory.mktemp("venvs")

    def make(version: str) -> Path:
        venv = root / f"py{version}"
        run(pyenv_python(version), "-m", "venv", venv, cwd=root)
        run(venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
            wheel, cwd=root, timeout=1500)
        return venv

    with ThreadPoolExecutor(len(PYTHONS)) as pool:
        return dict(zip(PYTHONS, pool.map(make, PYTHONS), strict=True))


@pytest.mark.parametrize("version", PYTHONS)
def test_installed_wheel_runs_a_workspace(venvs, version, tmp_path):
    venv = venvs[version]
    ducttape = venv / "bin" / "ducttape"
    site = Path(run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                    cwd=tmp_path).stdout.strip())
    checkout_before = run("git", "status", "--porcelain", "--ignored", cwd=REPO).stdout
    site_before = files_under(site)
    env = {"DUCTTAPE_WORKSPACE": "", "DUCTTAPE_BUILD_DIR": ""}

    version_line = re.search(r'^__version__ = "(.+)"', (Path(REPO) / "ducttape" / "__init__.py").read_text(), re.M)
    assert run(ducttape, "--version", cwd=tmp_path, env=env).stdout.strip() == f"ducttape {version_line[1]}"
    workspace = tmp_path / "perf-tests"
    run(ducttape, "init", workspace, cwd=tmp_path, env=env)
    built = run(ducttape, "build", cwd=workspace, env=env, timeout=900)
    assert "zookeeper" in built.stdout and (workspace / "build" / "zookeeper" / "bin" / "run-class").is_file()
    tested = run(ducttape, "test", "tests/", cwd=workspace, env=env, timeout=600)
    assert "1 passed, 0 failed" in tested.stdout, tested.stdout
    assert (workspace / "results" / "latest" / "report.html").is_file()

    assert run("git", "status", "--porcelain", "--ignored", cwd=REPO).stdout == checkout_before
    assert files_under(site) == site_before, sorted(files_under(site) ^ site_before)[:10]
