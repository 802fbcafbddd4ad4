"""ducttape: system-integration and performance tests of distributed systems."""
