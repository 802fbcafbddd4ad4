"""The Kafka tests need the default projects built (`invoke build`, as a user does first)."""

import pytest

from support import run_cli


@pytest.fixture(scope="session")
def built():
    """`invoke build` of the default projects.yaml (Kafka, ZooKeeper, the Strimzi bridge from
    git) into the default build folder (a no-op when they are up to date)."""
    proc = run_cli("build",
                   timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
