"""ducttape: system-integration and performance tests of distributed systems."""

__version__ = "0.5.0"
