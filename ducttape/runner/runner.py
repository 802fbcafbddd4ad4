"""The runner: schedules tests on the cluster's nodes and owns their teardown and results."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import queue
import shutil
import sys
import threading
import time
import traceback
from typing import TextIO

from tabulate import tabulate

from ducttape.cluster import Cluster, ClusterView
from ducttape.runner.discovery import TestSpec
from ducttape.runner.logs import close_logs, current_test, open_logs
from ducttape.runner.reports import write_reports
from ducttape.runner.result import FAIL, FLAKY, PASS, SessionInfo, TestResult
from ducttape.runner.session import new_session_dir
from ducttape.services.service import Service

DEFAULT_TEST_TIMEOUT = 1800.0
RERUN_FILE = "rerun-failed"
log = logging.getLogger("ducttape.runner")


class Runner:
    """Runs tests on a cluster and writes ``results/<session-id>/``.

    Up to ``max_parallel`` tests run at once, each on its own nodes (its declared need, or the
    whole cluster when it declares none); a test waits until enough nodes are free. For each
    test: run setUp / the method / tearDown in a thread with a timeout, then stop every service
    still running in reverse order of creation (collecting its logs), kill anything the test's
    accounts spawned and left behind, free the nodes, save the data and rewrite the reports.
    A failed test is run again up to ``retries`` times; a later pass is FLAKY.
    """

    def __init__(self, cluster: Cluster, results_root: str, cluster_name: str,
                 timeout: float = DEFAULT_TEST_TIMEOUT, out: TextIO = sys.stdout,
                 build_manifest: object = None, max_parallel: int = 1, retries: int = 0,
                 params: dict | None = None):
        self.cluster = cluster
        self.timeout = timeout
        self.out = out
        self.max_parallel = max(1, max_parallel)
        self.retries = max(0, retries)
        session_id, path = new_session_dir(results_root)
        self.session = SessionInfo(session_id, path, cluster_name, time.time(),
                                   build_manifest=build_manifest, params=dict(params or {}))
        self.results: list[TestResult] = []
        self._abort = threading.Event()
        self._wakers: set[threading.Event] = set()
        self._lock = threading.Lock()
        if build_manifest is not None:
            _write_json(os.path.join(path, "build-manifest.json"), build_manifest)

    def need(self, spec: TestSpec) -> int:
        return spec.num_nodes or len(self.cluster)

    def run(self, specs: list[TestSpec]) -> list[TestResult]:
        """Run ``specs``; on Ctrl-C stop the running tests cleanly and start no more."""
        handlers = open_logs(self.session.path, "session_log")
        done: dict[int, TestResult] = {}
        try:
            self._report(specs, done)
            runnable = []
            for i, spec in enumerate(specs):
                if self.need(spec) > len(self.cluster):
                    done[i] = self._oversized(spec, f"[{i + 1}/{len(specs)}]")
                else:
                    runnable.append(i)
            self._report(specs, done)
            self._schedule(specs, runnable, done)
        finally:
            self.session.finished = time.time()
            self._report(specs, done)
            close_logs(handlers)
        self._print_summary()
        return self.results

    # -- scheduling -----------------------------------------------------------------------------

    def _schedule(self, specs: list[TestSpec], runnable: list[int], done: dict[int, TestResult]) -> None:
        # Biggest needs first, smaller ones fill the gaps (stable: equal needs keep their order).
        pending = sorted(runnable, key=lambda i: -self.need(specs[i]))
        finished: queue.Queue = queue.Queue()
        running = 0
        while pending or running:
            while pending and running < self.max_parallel and not self.session.interrupted:
                free = self.cluster.num_available
                fits = [i for i in pending if self.need(specs[i]) <= free]
                if not fits:
                    break
                i = fits[0]
                pending.remove(i)
                view = self.cluster.view(self.need(specs[i]))
                position = f"[{i + 1}/{len(specs)}]"
                threading.Thread(target=self._run_test, args=(specs[i], view, position, i, finished),
                                 name=f"run-{specs[i].cls.__name__}", daemon=True).start()
                running += 1
            if self.session.interrupted and not running:
                break
            try:
                i, result = finished.get(timeout=3600)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                self._interrupt()
                continue
            running -= 1
            done[i] = result
            self._report(specs, done)

    def _interrupt(self) -> None:
        if not self.session.interrupted:
            self.out.write("\ninterrupted: stopping the running tests' services...\n")
            self.out.flush()
        self.session.interrupted = True
        self._abort.set()
        with self._lock:
            for wake in self._wakers:
                wake.set()

    def _report(self, specs: list[TestSpec], done: dict[int, TestResult]) -> None:
        with self._lock:
            self.results = [done[i] for i in sorted(done)]
            write_reports(self.session, self.results)
            failed = [r.test_id for r in self.results if r.status == FAIL]
            with open(os.path.join(self.session.path, RERUN_FILE), "w") as f:
                f.write("".join(f"{t}\n" for t in failed))

    # -- one test, with its retries -------------------------------------------------------------

    def _run_test(self, spec: TestSpec, view: ClusterView, position: str, index: int,
                  finished: queue.Queue) -> None:
        test_dir = os.path.join(self.session.path, spec.folder)
        self._say(f"{position} {spec.test_id} ... ", start=True, nodes=view.nodes)
        attempts = []
        try:
            for attempt in range(1, self.retries + 2):
                if attempt > 1:
                    _keep_attempt(test_dir, attempt - 1)
                    view.services.clear()
                result = self._attempt(spec, view, test_dir)
                attempts.append(result)
                if result.status == PASS or self.session.interrupted or attempt > self.retries:
                    break
                log.info("%s failed (attempt %d); running it again", spec.test_id, attempt)
            if len(attempts) > 1:
                result.attempts = [{"status": a.status, "error": a.error, "duration": a.duration,
                                    "folder": f"attempt-{n}" if n < len(attempts) else "."}
                                   for n, a in enumerate(attempts, 1)]
                result.duration = sum(a.duration for a in attempts)
                if result.status == PASS:
                    result.status = FLAKY
                    result.error = f"passed on attempt {len(attempts)} after: {attempts[0].error}"
        except BaseException as exc:  # noqa: BLE001 - the runner itself broke; say so, don't hang
            result = TestResult(spec.test_id, spec.module, spec.cls.__name__, spec.method,
                                status=FAIL, error=f"runner error: {exc!r}",
                                details=traceback.format_exc(), folder=spec.folder)
        finally:
            view.release()
        self._say(f"{position} {spec.test_id} ... ", result=result)
        finished.put((index, result))

    def _attempt(self, spec: TestSpec, view: ClusterView, test_dir: str) -> TestResult:
        result = TestResult(spec.test_id, spec.module, spec.cls.__name__, spec.method,
                            started=time.time(), folder=spec.folder, params=spec.params,
                            nodes=[n.name for n in view.nodes])
        os.makedirs(test_dir, exist_ok=True)
        token = object()
        current_test.set(token)
        handlers = open_logs(test_dir, "test_log", token)
        log.info("running %s on %s", spec.test_id, ", ".join(result.nodes))
        view.log_collector = lambda svc: _collect_logs(svc, test_dir)
        try:
            try:
                self._execute(spec, view, test_dir, result)
            finally:
                self._teardown(view, result)
        finally:
            result.duration = time.time() - result.started
            if result.data is not None:
                _write_json(os.path.join(test_dir, "data.json"), result.data)
            log.info("%s %s in %.1fs%s", spec.test_id, result.status, result.duration,
                     f": {result.error}" if result.error else "")
            close_logs(handlers)
        return result

    def _execute(self, spec: TestSpec, view: ClusterView, test_dir: str, result: TestResult) -> None:
        outcome: dict = {}
        wake = threading.Event()

        def body() -> None:
            try:
                test = outcome["test"] = spec.cls(view, test_dir, self.session.params)
                test.setUp()
                try:
                    outcome["data"] = getattr(test, spec.method)(**spec.params)
                finally:
                    test.tearDown()
            except BaseException as exc:  # noqa: BLE001 - reported as the test's failure
                outcome["error"] = exc
                outcome["details"] = traceback.format_exc()
            finally:
                outcome["done"] = True
                wake.set()

        with self._lock:
            self._wakers.add(wake)
        if self._abort.is_set():
            wake.set()
        threading.Thread(target=contextvars.copy_context().run, args=(body,),
                         name=spec.cls.__name__, daemon=True).start()
        wake.wait(self.timeout)
        with self._lock:
            self._wakers.discard(wake)
        if "test" in outcome:
            result.summary = "\n".join(outcome["test"].shown)
        if "done" not in outcome:
            if self._abort.is_set():
                _fail(result, "interrupted (Ctrl-C): services stopped, run ended", "")
            else:
                _fail(result, f"timed out after {self.timeout:g}s: its services were stopped", "")
        elif "error" in outcome:
            exc = outcome["error"]
            _fail(result, f"{type(exc).__name__}: {exc}", outcome["details"])
        else:
            result.status = PASS
            result.data = outcome.get("data")

    def _teardown(self, view: ClusterView, result: TestResult) -> None:
        for service in reversed(view.services):
            if service.nodes:
                self._stop(service, result)
        for node in view.nodes:
            try:
                leftovers = node.account.kill_spawned()
            except Exception as exc:  # noqa: BLE001 - keep cleaning the other nodes
                log.error("could not check %s for leftover processes: %s", node.name, exc)
                continue
            if leftovers:
                log.warning("killed processes left running on %s: %s", node.name, ", ".join(leftovers))

    def _stop(self, service: Service, result: TestResult) -> None:
        try:
            service.stop()
        except Exception as exc:  # noqa: BLE001 - a service that fails to stop fails the test
            log.error("stopping %s failed: %s", service.service_id, exc, exc_info=True)
            if result.status == PASS:
                _fail(result, f"stopping {service.service_id} failed: {type(exc).__name__}: {exc}",
                      traceback.format_exc())

    def _oversized(self, spec: TestSpec, position: str) -> TestResult:
        result = TestResult(spec.test_id, spec.module, spec.cls.__name__, spec.method,
                            started=time.time(), folder="", params=spec.params)
        _fail(result, f"needs {spec.num_nodes} nodes but the {self.cluster.description} has "
                      f"{len(self.cluster)}; not run", "")
        self._say(f"{position} {spec.test_id} ... ", start=True)
        self._say(f"{position} {spec.test_id} ... ", result=result)
        return result

    # -- console --------------------------------------------------------------------------------

    def _say(self, prefix: str, start: bool = False, nodes=(), result: TestResult | None = None) -> None:
        """One line per test: serial runs complete the line when the test ends; parallel runs
        print a line when a test starts and one when it ends."""
        serial = self.max_parallel == 1
        with self._lock:
            if start:
                self.out.write(prefix if serial else
                               f"{prefix}running on {', '.join(n.name for n in nodes)}\n")
            else:
                self.out.write(("" if serial else prefix) + f"{result.status} ({result.duration:.1f}s)\n")
                if result.error:
                    self.out.write(f"    {result.error}\n")
                if result.summary:
                    self.out.write("".join(f"    {line}\n" for line in result.summary.splitlines()))
            self.out.flush()

    def _print_summary(self) -> None:
        rows = [(r.test_id, r.status, f"{r.duration:.1f}s") for r in self.results]
        self.out.write("\n" + tabulate(rows, headers=("test", "status", "time")) + "\n")
        counts = {s: sum(r.status == s for r in self.results) for s in (PASS, FLAKY, FAIL)}
        flaky = f", {counts[FLAKY]} flaky" if counts[FLAKY] else ""
        self.out.write(f"\n{counts[PASS]} passed, {counts[FAIL]} failed{flaky}"
                       f"{' (interrupted)' if self.session.interrupted else ''}; "
                       f"reports in {self.session.path}\n")
        self.out.flush()


def _fail(result: TestResult, error: str, details: str) -> None:
    result.status = FAIL
    result.error = error.replace("\n", " | ")
    result.details = details or error
    log.error("%s failed: %s", result.test_id, result.error)


def _keep_attempt(test_dir: str, attempt: int) -> None:
    """Move a failed attempt's files into ``<test>/attempt-N/`` before the next attempt."""
    keep = os.path.join(test_dir, f"attempt-{attempt}")
    os.makedirs(keep)
    for name in os.listdir(test_dir):
        if not name.startswith("attempt-"):
            shutil.move(os.path.join(test_dir, name), os.path.join(keep, name))


def _collect_logs(service: Service, test_dir: str) -> None:
    """Copy the service's declared logs from each node into ``<test>/<service>/<node>/``."""
    for node in service.nodes:
        target = os.path.join(test_dir, service.service_id, node.name)
        for name, path in service.log_files(node).items():
            try:
                if node.account.exists(path):
                    node.account.copy_from(path, os.path.join(target, os.path.basename(path)))
            except Exception as exc:  # noqa: BLE001 - a missing log must not hide the real result
                log.warning("could not collect %s log %s from %s: %s", service.service_id, name,
                            node.name, exc)


def _write_json(path: str, data: object) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
