"""Fixtures for the Vagrant tests: a throw-away copy of the repository's Vagrant setup whose
containers, network, ports and node image are its own, removed again whatever happens."""

import pytest

from vagrant_copy import make_copy, remove_copy


@pytest.fixture
def vagrant_copy(tmp_path):
    """A VagrantCopy; afterwards its containers, network and node image are gone."""
    copy = make_copy(tmp_path / "repo")
    try:
        yield copy
    finally:
        remove_copy(copy)
