"""Test: the base class of scenarios."""

from __future__ import annotations

import logging

from ducttape.cluster import Cluster


class Test:
    """A scenario: ``setUp``, one or more ``test*`` methods, ``tearDown``.

    ``self.cluster`` holds the nodes the test may use; services created on it are registered and
    the runner stops them (reverse order) and collects their logs, even when the test failed.
    ``self.logger`` is tagged with the class name. Whatever a test method returns is saved as its
    data (``data.json``) and shown in the reports. ``self.results_dir`` is the test's own folder
    for any further files it wants to keep. ``self.params`` holds the session's parameters
    (``invoke test NAME --param key=value``), the same for every test of the session.
    """

    def __init__(self, cluster: Cluster, results_dir: str, params: dict | None = None):
        self.cluster = cluster
        self.results_dir = results_dir
        self.params = dict(params or {})
        self.logger = logging.getLogger(f"ducttape.test.{type(self).__name__}")
        self.shown: list[str] = []

    def show(self, text: str) -> None:
        """Put ``text`` (a table, a verdict) on the console under the test's result line and in
        the reports; it is logged too."""
        self.shown.append(text.rstrip("\n"))
        self.logger.info("%s", text)

    def setUp(self) -> None:  # noqa: N802 - the seed's (unittest's) names
        """Prepare the test (e.g. start the services every method needs)."""

    def tearDown(self) -> None:  # noqa: N802
        """Undo ``setUp``; the runner also stops any service still running afterwards."""
