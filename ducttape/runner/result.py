"""What one test run produced, and the session's list of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from ducttape import secret

PASS, FAIL, FLAKY = "PASS", "FAIL", "FLAKY"
"""FLAKY: failed, then passed when run again (``--retries``)."""
KNOWN_FAIL, UNEXPECTED_PASS = "KNOWN-FAIL", "UNEXPECTED-PASS"
"""The outcomes of a test marked ``@known_failure(reason)``: it failed as expected, or it passed
(reported, not fatal: the mark may be stale)."""
NOT_RUN = "NOT-RUN"
"""Selected but not started: ``--exit-first`` stopped the session after a failure."""


@dataclass
class TestResult:
    """The outcome of one test: status, timing, the one-line error, its data and folder."""

    test_id: str
    module: str
    cls: str
    method: str
    status: str = ""
    started: float = 0.0
    duration: float = 0.0
    error: str = ""
    details: str = ""
    data: object = None
    folder: str = ""
    nodes: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    summary: str = ""
    attempts: list[dict] = field(default_factory=list)
    selector: str = ""
    """What ``invoke test`` selects this case with (its module's name or path, class, method, case)."""
    builds: list[str] = field(default_factory=list)
    """The build projects (projects.yaml) its services ran from."""
    versions: dict[str, str] = field(default_factory=dict)
    """Versions of software the test installed itself (``TestContext.record_version``)."""
    tags: list[str] = field(default_factory=list)
    """The test's ``@tag`` names, sorted."""
    known_failure: str = ""
    """The reason of its ``@known_failure`` mark ('' when it has none)."""
    teardown_seconds: float = 0.0
    """Of ``duration``: from the end of its body (setUp and the test method) to the end of its
    teardown (tearDown, stopping its services, collecting their logs, ending what they left)."""
    collect_seconds: float = 0.0
    """Of ``duration``: copying its services' logs from the nodes, in the body and the teardown."""
    result_bytes: int = 0
    """The size of its folder once it ended: the bytes of every file in it (logs, data.json...)."""

    def to_dict(self) -> dict:
        """The fields as a dict (sharing their values: a reported result does not change)."""
        return dict(vars(self))


@dataclass
class SessionInfo:
    """What the reports say about the session as a whole."""

    session_id: str
    path: str
    cluster: str
    started: float
    finished: float | None = None
    interrupted: bool = False
    build_manifest: object = None
    params: dict = field(default_factory=dict)
    selection: dict = field(default_factory=dict)
    """How the tests were chosen when it was more than their names: ``--sample`` (with its
    seed), ``--subset``, ``--tags``, ``--exclude``, ``--repeat``."""


def redact_result(result: TestResult) -> TestResult:
    """``result`` with secrets masked in its texts, data and parameters (``ducttape.secret``),
    in place; returned for convenience."""
    for name in ("error", "details", "summary", "test_id", "selector"):
        setattr(result, name, secret.redact(getattr(result, name)))
    result.data = secret.redact_data(result.data)
    result.params = secret.masked(result.params)
    result.attempts = cast("list[dict]", secret.redact_data(result.attempts))  # the same shape, redacted
    return result
