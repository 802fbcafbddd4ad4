"""The runner: schedules tests on the cluster's nodes and owns their teardown and results."""

from __future__ import annotations

import collections
import json
import logging
import os
import shutil
import signal
import sys
import time
import uuid
from multiprocessing.connection import wait
from typing import TextIO

from tabulate import tabulate

from ducttape import secret
from ducttape.cluster import Cluster, Node
from ducttape.runner import where
from ducttape.runner.discovery import TestSpec
from ducttape.runner.files import folder_bytes
from ducttape.runner.logs import LogFiles
from ducttape.runner.process import Forker, TestProcess, fail, sweep
from ducttape.runner.reports import write_reports
from ducttape.runner import kept
from ducttape.runner.result import (
    FAIL,
    FLAKY,
    KNOWN_FAIL,
    NOT_RUN,
    PASS,
    UNEXPECTED_PASS,
    SessionInfo,
    TestResult,
    redact_result,
)
from ducttape.runner.settings import RunSettings
from ducttape.runner.session import new_session_dir
from ducttape.stopping import SIGNALS

DEFAULT_TEST_TIMEOUT = 1800.0
RERUN_FILE = "rerun-failed"
WITHHELD_WAIT = 60.0
"""Seconds the runner waits for a held-back node (see ``Runner.withheld``) before the tests that
need it are reported not run."""
WITHHELD_POLL = 2.0
RESULTS_LOG = "results.jsonl"
REPORT_INTERVAL = 2.0
"""Least seconds between rewrites of the reports while a session runs (and once at its end)."""
REPORT_SHARE = 0.05
"""Most of a session's time its report rewrites may take: with many results, a rewrite takes
long enough that the interval grows to keep this share."""
log = logging.getLogger("ducttape.runner")


class _Test:
    """One selected test while it runs: its case, nodes, position and attempts so far."""

    def __init__(self, index: int, spec: TestSpec, view, position: str, test_dir: str):
        self.index, self.spec, self.view = index, spec, view
        self.position, self.test_dir = position, test_dir
        self.attempts: list[TestResult] = []
        self.process: TestProcess
        """The process of its current attempt (``Runner._launch`` makes it)."""


class Runner:
    """Runs tests on a cluster and writes ``results/<session-id>/``.

    Up to ``max_parallel`` tests run at once, each on its own nodes (its declared need, or the
    whole cluster when it declares none); a test waits until enough nodes are free. Each attempt
    runs in its own process (``process.TestProcess``); a test that exceeds ``timeout``, or every
    running test on Ctrl-C, is killed with all it started on its nodes, its services stopped
    from their recorded state and their logs collected, before its nodes are handed on. A failed
    test is run again up to ``retries`` times; a later pass is FLAKY. A test marked
    ``@known_failure`` is not run again: its failure is KNOWN-FAIL, its pass UNEXPECTED-PASS.
    ``settings`` (RunSettings) adds ``--exit-first`` (no test starts after a failure; those
    left are NOT-RUN) and ``--no-teardown`` (the last test started keeps its services running;
    ``kept.json`` in the session says what and where). Every result is appended
    to ``results.jsonl`` as it comes; the reports are rewritten every REPORT_INTERVAL seconds
    (less often when a rewrite takes more than REPORT_SHARE of that) and at the end.
    """

    def __init__(
        self,
        cluster: Cluster,
        results_root: str,
        cluster_name: str,
        timeout: float = DEFAULT_TEST_TIMEOUT,
        out: TextIO = sys.stdout,
        build_manifest: object = None,
        max_parallel: int = 1,
        retries: int = 0,
        params: dict | None = None,
        settings: RunSettings | None = None,
        selection: dict | None = None,
    ):
        self.cluster = cluster
        self.timeout = timeout
        self.out = out
        self.max_parallel = max(1, max_parallel)
        self.retries = max(0, retries)
        self.settings = settings or RunSettings()
        self.stopping = False
        """``--exit-first`` saw a failure: no more tests start."""
        self.kept: dict | None = None
        """What ``--no-teardown`` left running (``kept.json``), once the test has ended."""
        session_id, path = new_session_dir(results_root)
        self.params = dict(params or {})
        """The session's parameters as the tests get them; the reports get ``session.params``,
        whose secret values are masked."""
        build_manifest = secret.redact_data(build_manifest)
        self.session = SessionInfo(
            session_id,
            path,
            cluster_name,
            time.time(),
            build_manifest=build_manifest,
            params=secret.masked(self.params),
            selection=dict(selection or {}),
        )
        self.results: list[TestResult] = []
        self._done: dict[int, TestResult] = {}
        self._report_entries: dict = {}
        self._report_due = 0.0
        self._started = 0
        self._total = 0
        self._results_log: TextIO  # results.jsonl, opened by run()
        self._wake_r, self._wake_w = os.pipe()
        self.stopped_by: int = signal.SIGINT
        """The signal that interrupted the session (SIGINT, SIGTERM or SIGHUP), once it did."""
        self.withheld: dict[str, tuple[Node, str]] = {}
        """Nodes held back, by name, with the tag of the test whose processes there could not be
        confirmed ended (the node did not answer); they return once a sweep there succeeds."""
        if build_manifest is not None:
            _write_json(os.path.join(path, "build-manifest.json"), build_manifest)

    def run(self, specs: list[TestSpec]) -> list[TestResult]:
        """Run ``specs``; on Ctrl-C, SIGTERM or SIGHUP stop the running tests cleanly and start
        no more."""
        session_log = LogFiles("session_log", self.session.path).attach()
        self._test_logs = LogFiles("test_log").attach()  # a test process gives it its folder
        log.info(
            "session %s: %d test%s on %s",
            self.session.session_id,
            len(specs),
            "s" * (len(specs) != 1),
            self.session.cluster,
        )
        self._total = len(specs)
        self._results_log = open(os.path.join(self.session.path, RESULTS_LOG), "a")
        try:
            previous = {sig: signal.signal(sig, self._interrupt) for sig in SIGNALS}
        except ValueError:  # not the main thread: signals stay the caller's business
            previous = {}
        try:
            self._report()
            runnable = []
            for i, spec in enumerate(specs):
                why = spec.misfit(self.cluster)
                if why:
                    self._finish(i, self._not_run(spec, why))
                else:
                    runnable.append(i)
            self._schedule(specs, runnable)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.session.finished = time.time()
            self._report(force=True)
            self._results_log.close()
            self._test_logs.close()
            session_log.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
        self._print_summary()
        return self.results

    # -- scheduling -----------------------------------------------------------------------------

    def _schedule(self, specs: list[TestSpec], runnable: list[int]) -> None:
        size = len(self.cluster)
        pending: dict[int, collections.deque[int]] = {}  # need -> test indexes in order
        for i in runnable:
            pending.setdefault(specs[i].need(size), collections.deque()).append(i)
        needs = sorted(pending, reverse=True)  # biggest needs first, smaller ones fill the gaps
        running: dict[int, _Test] = {}  # by the fd of its process's pipe
        exiting: list[TestProcess] = []  # done, killed, not yet reaped
        self._forker = Forker(self.cluster, specs, self.params, self._test_logs, self.settings)
        try:
            self._run_all(specs, pending, needs, running, exiting)
        finally:
            for proc in exiting:
                proc.reaped(block=True)
            self._forker.close()

    def _run_all(self, specs, pending, needs, running: dict[int, "_Test"], exiting: list[TestProcess]) -> None:
        while True:
            while len(running) < self.max_parallel and not self.session.interrupted and not self.stopping:
                i = self._next_that_fits(specs, pending, needs)
                if i is None:
                    break
                spec = specs[i]
                test = _Test(
                    i,
                    spec,
                    self.cluster.view(spec.need(len(self.cluster)), spec.node_types),
                    self._position(),
                    os.path.join(self.session.path, spec.folder),
                )
                self._say_start(test)
                self._launch(test, keep=self.settings.no_teardown and not any(pending.values()))
                running[test.process.fileno()] = test
            if not running:
                if self.stopping:
                    self._stopped(specs, pending)
                    return
                if any(pending.values()) and self.withheld and not self.session.interrupted:
                    if self._await_withheld():
                        continue
                if not self.session.interrupted:
                    self._cannot_run(specs, pending)
                return
            deadline = min(t.process.deadline for t in running.values())
            ready = wait([*running, self._wake_r], max(0.0, deadline - time.monotonic()))
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
            # a retry started below may get the fd of a pipe closed below: take the tests first
            for test in [running[fd] for fd in ready if fd in running]:
                fd = test.process.fileno()
                if test.process.receive():
                    del running[fd]
                    exiting.append(test.process)
                    self._attempt_ended(test, running)
            exiting[:] = [proc for proc in exiting if not proc.reaped()]
            now = time.monotonic()
            for fd, test in list(running.items()):
                if self.session.interrupted or test.process.deadline <= now:
                    del running[fd]
                    self._kill(test)
                    self._attempt_ended(test, running)

    def _next_that_fits(self, specs: list[TestSpec], pending: dict, needs: list[int]) -> int | None:
        """The first waiting test, biggest needs first, whose nodes (and node types) are free
        now, taken off ``pending``; None if none fits."""
        for need in needs:
            for i in pending[need]:
                if self.cluster.fits(need, specs[i].node_types):
                    pending[need].remove(i)
                    return i
        return None

    def _launch(self, test: _Test, keep: bool = False) -> None:
        """Start the test's next attempt (``keep``: its services stay running afterwards, if it
        is its last attempt)."""
        os.makedirs(test.test_dir, exist_ok=True)
        tag = f"{self.session.session_id}-{test.index + 1}-{len(test.attempts) + 1}-{uuid.uuid4().hex[:8]}"
        last_attempt = len(test.attempts) >= self.retries or test.spec.known_failure
        test.process = TestProcess(
            test.spec,
            test.view,
            test.test_dir,
            self.params,
            tag,
            self.timeout,
            self._forker,
            test.index,
            keep=keep and bool(last_attempt),
        )
        self.out.flush()
        test.process.start()

    def _kill(self, test: _Test) -> None:
        proc = test.process
        at, dump = where.ask(proc.pid, test.test_dir) if not proc.gone else ("", "")
        at = f" {at}" if at else ""
        if self.session.interrupted:
            how = "Ctrl-C" if self.stopped_by == signal.SIGINT else signal.Signals(self.stopped_by).name
            why = f"interrupted ({how}){at}: its processes were killed and its services stopped; run ended"
        elif proc.in_teardown:
            why = f"timed out stopping its services{at} (after {self.timeout:g}s for the test)"
        else:
            why = f"timed out after {self.timeout:g}s{at}: its processes were killed and its services stopped"
        log.error("%s: %s", test.spec.test_id, why)
        if dump:
            log.error(
                "%s was here when it was stopped (%s):\n%s",
                test.spec.test_id,
                os.path.join(test.test_dir, where.WHERE_FILE),
                dump,
            )
        stopping = time.time()
        proc.kill()
        if proc.result is None or proc.result.status == PASS:
            proc.result = self._failed_attempt(test, why, dump)
            proc.result.teardown_seconds = time.time() - stopping  # the runner's teardown of it

    def _attempt_ended(self, test: _Test, running: dict[int, _Test]) -> None:
        proc = test.process
        if proc.result is None:  # the process died without a word: clean up after it
            proc.kill()
            proc.result = self._failed_attempt(
                test, f"the test's process exited with status {proc.exit_status} before reporting"
            )
        result = redact_result(proc.result)
        test.attempts.append(result)
        if (
            result.status == FAIL
            and not self.session.interrupted
            and len(test.attempts) <= self.retries
            and not test.spec.known_failure
        ):
            log.info("%s failed (attempt %d); running it again", test.spec.test_id, len(test.attempts))
            _keep_attempt(test.test_dir, len(test.attempts))
            self._launch(test, keep=self.settings.no_teardown and self._started == self._total)
            running[test.process.fileno()] = test
            return
        if len(test.attempts) > 1:
            result.attempts = [
                {
                    "status": a.status,
                    "error": a.error,
                    "details": a.details,
                    "duration": a.duration,
                    "folder": f"attempt-{n}" if n < len(test.attempts) else ".",
                }
                for n, a in enumerate(test.attempts, 1)
            ]
            result.duration = sum(a.duration for a in test.attempts)
            result.teardown_seconds = sum(a.teardown_seconds for a in test.attempts)
            result.collect_seconds = sum(a.collect_seconds for a in test.attempts)
            if result.status == PASS:
                result.status = FLAKY
                result.error = f"passed on attempt {len(test.attempts)} after: {test.attempts[0].error}"
        _judge(test.spec, result)
        log.info(
            "%s %s in %.1fs%s",
            test.spec.test_id,
            result.status,
            result.duration,
            f": {result.error}" if result.error else "",
        )
        self._say_end(test.position, test.spec, result)
        if proc.kept is not None:
            self.kept = kept.record(
                self.session.path,
                test.spec.test_id,
                proc.tag,
                test.view.nodes,
                proc.kept,
                self.session.cluster,
                test.test_dir,
            )
            self.out.write(kept.describe(self.kept))
            self.out.flush()
        else:
            self._release(test.view, proc.unswept, proc.tag)
        result.result_bytes = folder_bytes(test.test_dir)
        if result.status == FAIL and self.settings.exit_first and not self.stopping:
            self.stopping = True
            self.out.write(f"--exit-first: {test.spec.test_id} failed; no more tests start\n")
            self.out.flush()
        self._finish(test.index, result)

    def _release(self, view, unswept: list[str], tag: str) -> None:
        """Give the test's nodes back, except those where its processes may still run."""
        if unswept:
            for node in view.nodes:
                if node.name in unswept:
                    self.withheld[node.name] = (node, tag)
            self.out.write(
                f"warning: {', '.join(unswept)} held back: the processes of the test "
                f"there could not be confirmed ended (see session_log.info); waiting "
                f"up to {WITHHELD_WAIT:g}s for it when a test needs it\n"
            )
            self.out.flush()
        view.release(keep=unswept)

    def _await_withheld(self) -> bool:
        """Sweep the held-back nodes again (a node that was down may be back) until one is
        confirmed clean or WITHHELD_WAIT passes; free the clean ones. True if any came back."""
        deadline = time.monotonic() + WITHHELD_WAIT
        while not self.session.interrupted:
            back = [name for name, (node, tag) in list(self.withheld.items()) if not sweep([node], tag)]
            for name in back:
                node, _ = self.withheld.pop(name)
                log.info("%s is back and clean: returned to the session", name)
                self.cluster.free([node])
            if back:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(WITHHELD_POLL)  # between reconnection attempts to nodes that are down
        return False

    def _stopped(self, specs: list[TestSpec], pending: dict) -> None:
        """Report the tests ``--exit-first`` kept from starting as NOT-RUN."""
        for i in sorted(i for queue in pending.values() for i in queue):
            self._finish(i, self._not_run(specs[i], "an earlier test failed (--exit-first)", NOT_RUN))
        pending.clear()

    def _cannot_run(self, specs: list[TestSpec], pending: dict) -> None:
        """Fail the tests left waiting for nodes that were held back and did not come back."""
        for i in sorted(i for queue in pending.values() for i in queue):
            self._finish(
                i,
                self._not_run(
                    specs[i],
                    (
                        f"needs {specs[i].need(len(self.cluster))} nodes but only {self.cluster.num_available} "
                        f"are left ({', '.join(self.withheld)} held back and not confirmed clean within "
                        f"{WITHHELD_WAIT:g}s)"
                    ),
                ),
            )
        pending.clear()

    def _failed_attempt(self, test: _Test, why: str, details: str = "") -> TestResult:
        proc = test.process
        result = proc.new_result(duration=time.time() - proc.started)
        fail(result, why, f"{why}\n\n{details}" if details else "")
        return result

    def _interrupt(self, signum: int = signal.SIGINT, frame=None) -> None:
        if not self.session.interrupted:
            self.stopped_by = signum
            self.out.write(
                f"\ninterrupted ({signal.Signals(signum).name}): stopping the running tests and their services...\n"
            )
            self.out.flush()
        self.session.interrupted = True
        os.write(self._wake_w, b"!")

    # -- results --------------------------------------------------------------------------------

    def _finish(self, index: int, result: TestResult) -> None:
        self._done[index] = result
        self._results_log.write(json.dumps(result.to_dict(), default=str) + "\n")
        self._results_log.flush()
        self._report()

    def _report(self, force: bool = False) -> None:
        """Rewrite the reports and the rerun list, at most every REPORT_INTERVAL seconds unless
        ``force``: what a session costs per test stays flat however long it is."""
        now = time.monotonic()
        if not force and now < self._report_due:
            return
        self.results = [self._done[i] for i in sorted(self._done)]
        write_reports(self.session, self.results, self._report_entries)
        failed = [r.selector for r in self.results if r.status == FAIL and r.selector]
        tmp = os.path.join(self.session.path, f"{RERUN_FILE}.tmp")
        with open(tmp, "w") as f:
            f.write("".join(f"{t}\n" for t in failed))
        os.replace(tmp, os.path.join(self.session.path, RERUN_FILE))
        took = time.monotonic() - now
        self._report_due = now + max(REPORT_INTERVAL, took / REPORT_SHARE)

    def _not_run(self, spec: TestSpec, why: str, status: str = FAIL) -> TestResult:
        """A result for a test that did not start: FAIL (it cannot run here) or NOT_RUN."""
        result = TestResult(
            spec.test_id,
            spec.module,
            spec.cls.__name__,
            spec.method,
            started=time.time(),
            folder="",
            params=spec.params,
            selector=spec.selector,
            tags=sorted(spec.tags),
            known_failure=spec.known_failure,
        )
        fail(result, f"{why}; not run", "")
        result.status = status
        redact_result(result)
        position = self._position()
        self._say_start(_Test(-1, spec, None, position, ""))
        self._say_end(position, spec, result)
        return result

    # -- console --------------------------------------------------------------------------------

    def _position(self) -> str:
        """``[k/N]``: tests are numbered in the order they start."""
        self._started += 1
        return f"[{self._started}/{self._total}]"

    def _say_start(self, test: _Test) -> None:
        """One line per test: serial runs complete the line when the test ends; parallel runs
        print a line when a test starts and one when it ends."""
        prefix = f"{test.position} {test.spec.test_id} ... "
        if self.max_parallel == 1:
            self.out.write(prefix)
        elif test.view is not None:
            self.out.write(f"{prefix}running on {', '.join(n.name for n in test.view.nodes)}\n")
        self.out.flush()

    def _say_end(self, position: str, spec: TestSpec, result: TestResult) -> None:
        prefix = "" if self.max_parallel == 1 else f"{position} {spec.test_id} ... "
        self.out.write(f"{prefix}{result.status} ({result.duration:.1f}s)\n")
        if result.error:
            self.out.write(f"    {result.error}\n")
        if result.summary:
            self.out.write("".join(f"    {line}\n" for line in result.summary.splitlines()))
        self.out.flush()

    def _print_summary(self) -> None:
        rows = [(r.test_id, r.status, f"{r.duration:.1f}s") for r in self.results]
        self.out.write("\n" + tabulate(rows, headers=("test", "status", "time")) + "\n")
        counts = {
            s: sum(r.status == s for r in self.results)
            for s in (PASS, FLAKY, FAIL, KNOWN_FAIL, UNEXPECTED_PASS, NOT_RUN)
        }
        more = "".join(
            f", {counts[s]} {word}"
            for s, word in (
                (FLAKY, "flaky"),
                (KNOWN_FAIL, "known failures"),
                (UNEXPECTED_PASS, "unexpected passes"),
                (NOT_RUN, "not run"),
            )
            if counts[s]
        )
        self.out.write(
            f"\n{counts[PASS]} passed, {counts[FAIL]} failed{more}"
            f"{' (interrupted)' if self.session.interrupted else ''}; "
            f"reports in {self.session.path}\n"
        )
        self.out.flush()


def _judge(spec: TestSpec, result: TestResult) -> None:
    """Give ``result`` its test's tags, and turn the outcome of a ``@known_failure`` test into
    KNOWN-FAIL or UNEXPECTED-PASS."""
    result.tags, result.known_failure = sorted(spec.tags), spec.known_failure
    if not spec.known_failure:
        return
    if result.status == FAIL:
        result.status = KNOWN_FAIL
    elif result.status in (PASS, FLAKY):
        result.status = UNEXPECTED_PASS
        result.error = f"passed, but is marked @known_failure({spec.known_failure!r}): remove the mark?"


def _keep_attempt(test_dir: str, attempt: int) -> None:
    """Move a failed attempt's files into ``<test>/attempt-N/`` before the next attempt."""
    keep = os.path.join(test_dir, f"attempt-{attempt}")
    os.makedirs(keep)
    for name in os.listdir(test_dir):
        if not name.startswith("attempt-"):
            shutil.move(os.path.join(test_dir, name), os.path.join(keep, name))


def _write_json(path: str, data: object) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
