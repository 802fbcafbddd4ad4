"""The test runner: scenario discovery, the Test base class, running, results and reports."""

from ducttape.runner.context import TestContext
from ducttape.runner.marks import cluster, known_failure, matrix, parametrize, tag
from ducttape.runner.test import Test

__all__ = ["Test", "TestContext", "cluster", "known_failure", "matrix", "parametrize", "tag"]
