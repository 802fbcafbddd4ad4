"""The test runner: scenario discovery, the Test base class, running, results and reports."""

from ducttape.runner.context import TestContext
from ducttape.runner.marks import cluster, matrix, parametrize
from ducttape.runner.test import Test

__all__ = ["Test", "TestContext", "cluster", "matrix", "parametrize"]
