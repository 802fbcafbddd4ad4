"""The test runner: scenario discovery, the Test base class, running, results and reports."""

from ducttape.runner.test import Test, cluster

__all__ = ["Test", "cluster"]
