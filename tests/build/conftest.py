"""Fixtures of the `invoke build` tests (helpers live in build_helpers.py)."""

from pathlib import Path

import pytest

from build_helpers import Invoke


@pytest.fixture
def build_dir(tmp_path) -> Path:
    """A fresh build folder for one test."""
    return tmp_path / "build"


@pytest.fixture
def invoke_build(build_dir) -> Invoke:
    """`invoke build` as a user runs it, building into ``build_dir``."""
    return Invoke(build_dir)
