"""Test: the base class of scenarios."""

from __future__ import annotations

from ducttape.runner.context import TestContext


class Test:
    """A scenario: ``setUp``, one or more ``test*`` methods, ``tearDown``.

    The runner makes one instance per test attempt, in the attempt's own process, from its
    TestContext: ``self.cluster`` holds the nodes the test may use (services made on it are
    stopped by the runner, newest first, and their logs collected, even when the test failed);
    ``self.params`` the session's parameters (``--param key=value``, ``--params FILE.json``);
    ``self.results_dir`` the test's own folder for further files; ``self.logger`` is tagged with
    the class name. Whatever a test method returns is saved as its data (``data.json``).
    """

    __test__ = False  # not a pytest class

    def __init__(self, context: TestContext):
        self.context = context
        self.cluster = context.cluster
        if context.results_dir is None:
            raise ValueError("a Test needs a context with a results folder (the runner gives each attempt its own)")
        self.results_dir: str = context.results_dir
        self.logger = context.logger
        self.shown: list[str] = []

    @property
    def params(self) -> dict:
        """The session's parameters (the same for every test of the session)."""
        return self.context.params

    def show(self, text: str) -> None:
        """Put ``text`` (a table, a verdict) on the console under the test's result line and in
        the reports; it is logged too."""
        self.shown.append(text.rstrip("\n"))
        self.logger.info("%s", text)

    def setUp(self) -> None:
        """Prepare the test (e.g. start the services every method needs)."""

    def tearDown(self) -> None:
        """Undo ``setUp``; the runner also stops any service still running afterwards."""
