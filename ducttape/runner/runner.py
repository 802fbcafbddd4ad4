"""The runner: runs tests one after another and owns their teardown and results."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import TextIO

from tabulate import tabulate

from ducttape.cluster import Cluster, ClusterView
from ducttape.errors import ClusterError
from ducttape.runner.discovery import TestSpec
from ducttape.runner.reports import write_reports
from ducttape.runner.result import FAIL, PASS, SessionInfo, TestResult
from ducttape.runner.session import new_session_dir
from ducttape.services.service import Service

DEFAULT_TEST_TIMEOUT = 1800.0
LOG_FORMAT = "[%(asctime)s %(levelname)-5s %(threadName)s %(name)s] %(message)s"
log = logging.getLogger("ducttape.runner")


class Runner:
    """Runs tests on a cluster and writes ``results/<session-id>/``.

    For each test: take its nodes, run setUp / the method / tearDown in a thread with a timeout,
    then stop every service still running in reverse order of creation (collecting its logs),
    kill anything the test's accounts spawned and left behind, free the nodes, save the data and
    rewrite the reports.
    """

    def __init__(self, cluster: Cluster, results_root: str, cluster_name: str,
                 timeout: float = DEFAULT_TEST_TIMEOUT, out: TextIO = sys.stdout,
                 build_manifest: object = None):
        self.cluster = cluster
        self.timeout = timeout
        self.out = out
        session_id, path = new_session_dir(results_root)
        self.session = SessionInfo(session_id, path, cluster_name, time.time(),
                                   build_manifest=build_manifest)
        self.results: list[TestResult] = []
        if build_manifest is not None:
            _write_json(os.path.join(path, "build-manifest.json"), build_manifest)

    def run(self, specs: list[TestSpec]) -> list[TestResult]:
        """Run ``specs`` in order; stop early (cleanly) on Ctrl-C. Returns the results."""
        root = logging.getLogger("ducttape")
        root.setLevel(logging.DEBUG)
        session_handlers = _file_handlers(self.session.path, "session_log")
        for h in session_handlers:
            root.addHandler(h)
        try:
            write_reports(self.session, self.results)
            for position, spec in enumerate(specs, 1):
                result = self._run_one(spec, f"[{position}/{len(specs)}]")
                self.results.append(result)
                write_reports(self.session, self.results)
                if self.session.interrupted:
                    break
        finally:
            self.session.finished = time.time()
            write_reports(self.session, self.results)
            for h in session_handlers:
                root.removeHandler(h)
                h.close()
        self._print_summary()
        return self.results

    # -- one test -------------------------------------------------------------------------------

    def _run_one(self, spec: TestSpec, position: str) -> TestResult:
        result = TestResult(spec.test_id, spec.module, spec.cls.__name__, spec.method,
                            started=time.time(), folder=spec.folder)
        test_dir = os.path.join(self.session.path, spec.folder)
        os.makedirs(test_dir, exist_ok=True)
        self.out.write(f"{position} {spec.test_id} ... ")
        self.out.flush()
        handlers = _file_handlers(test_dir, "test_log")
        root = logging.getLogger("ducttape")
        for h in handlers:
            root.addHandler(h)
        log.info("running %s", spec.test_id)
        try:
            view = self._take_nodes(spec, result)
            if view is not None:
                result.nodes = [n.name for n in view.nodes]
                view.log_collector = lambda svc: _collect_logs(svc, test_dir)
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
            for h in handlers:
                root.removeHandler(h)
                h.close()
        self.out.write(f"{result.status} ({result.duration:.1f}s)\n")
        if result.error:
            self.out.write(f"    {result.error}\n")
        self.out.flush()
        return result

    def _take_nodes(self, spec: TestSpec, result: TestResult) -> ClusterView | None:
        try:
            return self.cluster.view(spec.num_nodes)
        except ClusterError as exc:
            _fail(result, f"ClusterError: {exc}", "")
            return None

    def _execute(self, spec: TestSpec, view: ClusterView, test_dir: str, result: TestResult) -> None:
        outcome: dict = {}

        def body() -> None:
            try:
                test = spec.cls(view, test_dir)
                test.setUp()
                try:
                    outcome["data"] = getattr(test, spec.method)()
                finally:
                    test.tearDown()
            except BaseException as exc:  # noqa: BLE001 - reported as the test's failure
                outcome["error"] = exc
                outcome["details"] = traceback.format_exc()

        thread = threading.Thread(target=body, name=spec.cls.__name__, daemon=True)
        thread.start()
        try:
            thread.join(self.timeout)
        except KeyboardInterrupt:
            self.session.interrupted = True
            _fail(result, "interrupted (Ctrl-C): services stopped, run ended", "")
            return
        if thread.is_alive():
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
        view.release()

    def _stop(self, service: Service, result: TestResult) -> None:
        try:
            service.stop()
        except Exception as exc:  # noqa: BLE001 - a service that fails to stop fails the test
            log.error("stopping %s failed: %s", service.service_id, exc, exc_info=True)
            if result.status == PASS:
                _fail(result, f"stopping {service.service_id} failed: {type(exc).__name__}: {exc}",
                      traceback.format_exc())

    # -- console --------------------------------------------------------------------------------

    def _print_summary(self) -> None:
        rows = [(r.test_id, r.status, f"{r.duration:.1f}s") for r in self.results]
        self.out.write("\n" + tabulate(rows, headers=("test", "status", "time")) + "\n")
        passed = sum(r.status == PASS for r in self.results)
        self.out.write(f"\n{passed} passed, {len(self.results) - passed} failed"
                       f"{' (interrupted)' if self.session.interrupted else ''}; "
                       f"reports in {self.session.path}\n")
        self.out.flush()


def _fail(result: TestResult, error: str, details: str) -> None:
    result.status = FAIL
    result.error = error.replace("\n", " | ")
    result.details = details or error
    log.error("%s failed: %s", result.test_id, result.error)


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


def _file_handlers(folder: str, stem: str) -> list[logging.Handler]:
    handlers = []
    for level, suffix in ((logging.INFO, "info"), (logging.DEBUG, "debug")):
        h = logging.FileHandler(os.path.join(folder, f"{stem}.{suffix}"))
        h.setLevel(level)
        h.setFormatter(logging.Formatter(LOG_FORMAT))
        handlers.append(h)
    return handlers


def _write_json(path: str, data: object) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
