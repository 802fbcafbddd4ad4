"""Fixtures shared by the framework's own test suite: a private sshd and clusters on it."""

from __future__ import annotations

import os

import pytest

from support import Sshd, git_mirror_env, run_cli, write_cluster_file
from vagrant_copy import remove_shared_image

SLOW_MARKERS = {"maven", "kafka", "vagrant"}


def pytest_configure(config):
    # git projects (the Strimzi bridge of projects.yaml) come from the local mirrors when there
    # are any beside the repository, in every `invoke build` the tests run
    os.environ.update(git_mirror_env())


def pytest_sessionfinish(session):
    remove_shared_image()  # the node image the Vagrant tests' copies shared


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_MARKERS & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 with its own host key and a client key for root."""
    server = Sshd(tmp_path_factory.mktemp("sshd")).start()
    try:
        yield server.info()
    finally:
        server.stop()


@pytest.fixture
def json_cluster_file(sshd, tmp_path):
    return write_cluster_file(tmp_path / "cluster.json", sshd, tmp_path / "scratch")


@pytest.fixture(scope="session")
def built():
    """`invoke build` of the default projects.yaml (Kafka, ZooKeeper, the Strimzi bridge from
    git) into the default build folder (a no-op when they are up to date)."""
    proc = run_cli("build", timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
