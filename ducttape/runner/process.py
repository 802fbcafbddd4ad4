"""One test attempt in its own process, in its own process group, forked by the session's forker.

The test process runs setUp, the test method and tearDown, then the teardown the runner owns
(services stopped newest first, their logs collected, nodes cleaned) and a sweep of every
process the attempt started on its nodes; it sends the runner what happened over a pipe. Every
command it runs on a node carries the attempt's tag (``RemoteAccount.tag``), so when the runner
has to kill the process (timeout, Ctrl-C) it can still end everything the test started,
locally and over SSH, and stop the services from the state they reported.

The runner never forks a test itself: ``Forker`` is a process forked once, when the session's
tests are loaded, that forks each test's process ahead (while the previous test runs) and hands
it its test on request. A fork costs in proportion to the memory of the process that forks, and
every page that process writes afterwards while the copy lives is copied; the runner's memory
grows with the session's results and it works while tests run, the forker's does neither, so
what a test costs stays flat however long the session is.
"""

from __future__ import annotations

import gc
import inspect
import json
import logging
import os
import pickle
import select
import signal
import socket
import sys
import time
import traceback
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from ducttape import secret
from ducttape.build import layout
from ducttape.cluster import Cluster, ClusterView, Node
from ducttape.runner import jvm_logs, where
from ducttape.runner.context import TestContext, collect_logs, log_folder
from ducttape.runner.discovery import TestSpec
from ducttape.runner.logs import LogFiles
from ducttape.runner.result import FAIL, PASS, TestResult
from ducttape.runner.settings import RunSettings

TEARDOWN_TIMEOUT = 600.0
"""Seconds the test's own teardown (stopping services, collecting logs) may take after the test."""
STOP_TIMEOUT = 30.0
FORKER_TIMEOUT = 60.0
"""Seconds the forker may take to answer (it answers in well under a millisecond when well)."""
log = logging.getLogger("ducttape.runner")


class ForkerError(RuntimeError):
    """The forker died or stopped answering: no more tests can be started."""


class Forker:
    """The session's forker: a process forked from the runner once, before any test runs, that
    forks each test's process (``TestProcess``) and reaps it when the runner says so.

    It holds the runner's cluster, tests, parameters and the handler of the tests' log files
    (``test_logs``) as they were when it was forked; a request names a test by its index and its
    nodes by name. It ends when the runner closes it (or exits); it ignores Ctrl-C, which is the
    runner's to handle.
    """

    def __init__(
        self,
        cluster: Cluster,
        specs: list[TestSpec],
        params: dict,
        test_logs: LogFiles,
        settings: RunSettings | None = None,
    ):
        for spec in specs:  # made once here, not in every test process
            logging.getLogger(_logger_name(spec))
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()

        def serve():
            self._sock.close()
            _serve(theirs, cluster, specs, params, test_logs, settings or RunSettings())

        pid = _fork(serve)
        theirs.close()
        self._sock.settimeout(FORKER_TIMEOUT)
        self.pid = pid
        self._exited: list[int] = []
        """Test processes known to have exited, reaped with the next request."""

    def fork(
        self,
        index: int,
        nodes: list[str],
        test_dir: str,
        tag: str,
        started: float,
        writer: Connection,
        keep: bool = False,
    ) -> int:
        """Start test ``index`` on ``nodes`` in a new process whose news go to ``writer``
        (``keep``: leave its services running, ``--no-teardown``); return its pid, which is
        also its process group's id."""
        test = pickle.dumps((index, nodes, test_dir, tag, started, keep))
        request = pickle.dumps(("fork", test, self._exited))
        pid = self._ask(lambda: socket.send_fds(self._sock, [request], [writer.fileno()]))
        self._exited = []
        return pid

    def reap(self, pid: int) -> int:
        """Wait for test process ``pid`` to exit, reap it, and return its exit code."""
        return self._ask(lambda: self._sock.send(pickle.dumps(("reap", pid))))

    def reap_later(self, pid: int) -> None:
        """Have test process ``pid``, which has exited, reaped with the next request (it stays a
        zombie until then, so its pid and process group id are not reused meanwhile)."""
        self._exited.append(pid)

    def close(self) -> None:
        """End the forker and wait for it."""
        for pid in self._exited:
            self.reap(pid)
        self._sock.close()
        os.waitpid(self.pid, 0)

    def _ask(self, send) -> Any:  # the forker's answer, unpickled
        try:
            send()
            answer = self._sock.recv(4096)
        except OSError as exc:
            raise ForkerError(f"the session's forker (pid {self.pid}) did not answer: {exc}") from exc
        if not answer:
            raise ForkerError(f"the session's forker (pid {self.pid}) has ended")
        kind, value = pickle.loads(answer)
        if kind == "error":
            raise ForkerError(f"the session's forker failed: {value}")
        return value


def _serve(
    sock: socket.socket,
    cluster: Cluster,
    specs: list[TestSpec],
    params: dict,
    test_logs: LogFiles,
    settings: RunSettings,
) -> None:
    """The forker's loop: fork test processes and reap them, as the runner asks, until it is gone.

    A test process is forked ahead, while the previous test runs, and waits for its test: a
    request is answered without waiting for a fork."""
    gc.freeze()  # the forker allocates little: leave what it shares with the runner untouched
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # the runner's to handle
        signal.signal(sig, signal.SIG_IGN)
    nodes = {n.name: n for n in cluster.nodes}

    def run(message: bytes, writer_fd: int) -> None:
        index, names, test_dir, tag, started, keep = pickle.loads(message)
        _child(
            specs[index],
            ClusterView(cluster, [nodes[n] for n in names]),
            test_dir,
            params,
            tag,
            started,
            test_logs,
            Connection(writer_fd, readable=False),
            settings,
            keep,
        )

    spare: _Spare | None = _Spare(run, sock)
    try:
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1)
            except ConnectionResetError:
                return
            if not message:  # the runner closed the forker, or exited
                return
            request = pickle.loads(message)
            try:
                if request[0] == "fork":
                    _, test, exited = request
                    for pid in exited:
                        os.waitpid(pid, 0)
                    taker, spare = spare, None
                    if taker is None or not taker.assign(test, fds[0]):  # none, or it died
                        taker = _Spare(run, sock)
                        if not taker.assign(test, fds[0]):
                            raise ForkerError("a new test process ended before it got its test")
                    answer = taker.pid
                else:
                    _, pid = request
                    answer = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
                sock.send(pickle.dumps(("ok", answer)))
            except Exception as exc:  # noqa: BLE001 - the runner reports it
                sock.send(pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))
            finally:
                for fd in fds:
                    os.close(fd)
            if spare is None:
                try:
                    spare = _Spare(run, sock)
                except OSError:  # retried when the next test is asked for
                    pass
    finally:
        if spare is not None:
            spare.discard()


def _fork(run) -> int:
    """Fork a process that calls ``run()`` and exits (1 if it raised); return its pid."""
    pid = os.fork()
    if pid == 0:  # never returns into the code of the process that forked
        code = 0
        try:
            run()
        except BaseException:  # noqa: BLE001 - nothing may escape into a copy of the parent
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


class _Spare:
    """A test process forked ahead, in its own process group, that waits for its test: then it
    calls ``run(message, writer_fd)``; it exits if it gets none (the session ended)."""

    def __init__(self, run, forker_sock: socket.socket):
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

        def wait_for_test():
            # What the runner's process made is never collected here: a collection that walked
            # it would touch (and so copy) most of the memory shared with the runner. The
            # test's own garbage is.
            gc.freeze()
            forker_sock.close()
            self._sock.close()
            os.setpgid(0, 0)
            message, fds, _, _ = socket.recv_fds(theirs, 1 << 16, 1)
            theirs.close()
            if message:
                run(message, fds[0])

        try:
            self.pid = _fork(wait_for_test)
        finally:
            theirs.close()
        try:
            os.setpgid(self.pid, self.pid)  # it does it too; whoever is first wins the race
        except OSError:
            pass

    def assign(self, test: bytes, writer_fd: int) -> bool:
        """Start ``test`` (the pickled arguments of its run) in this process, its news going to
        ``writer_fd``; False (and the process reaped) if it is no longer there to take it."""
        try:
            socket.send_fds(self._sock, [test], [writer_fd])
        except OSError:
            self.discard()
            return False
        self._sock.close()
        return True

    def discard(self) -> None:
        """End the waiting process (it exits when its socket closes) and reap it."""
        self._sock.close()
        os.waitpid(self.pid, 0)


class TestProcess:
    """The runner's handle on one attempt's process: start it, read its news, kill it."""

    __test__ = False

    def __init__(
        self,
        spec: TestSpec,
        view: ClusterView,
        test_dir: str,
        params: dict,
        tag: str,
        timeout: float,
        forker: Forker,
        index: int = -1,
        keep: bool = False,
    ):
        self.spec, self.view, self.test_dir = spec, view, test_dir
        self.params, self.tag, self.timeout = params, tag, timeout
        self.services: dict[str, dict] = {}
        """Services holding nodes, by id, in creation order: their state as the test reported it."""
        self.uses: dict = {}
        """The builds and versions the test used, as it reported them (``TestContext.use_builds``)."""
        self.result: TestResult | None = None
        self.pid = 0
        self.exit_status: int | None = None
        """Known when the runner had to wait for the process's end (it was killed or died)."""
        self.gone = False
        """The process has exited and is reaped, or will be with the forker's next request."""
        self.started = 0.0
        self.deadline = 0.0
        self.in_teardown = False
        self.unswept: list[str] = []
        """Nodes where the end of the test's processes could not be confirmed."""
        self.conn: Connection | None = None
        self.fd = -1
        self.forker, self.index = forker, index
        """The session's forker, and the test's index in the list it was given."""
        self.keep = keep
        """``--no-teardown``: the test leaves its services running."""
        self.kept: list[dict] | None = None
        """The services it left running, as it reported them (when ``keep``)."""
        self._pidfd = -1

    def start(self) -> None:
        """Have the forker start the test process."""
        log.info("running %s on %s", self.spec.test_id, ", ".join(n.name for n in self.view.nodes))
        reader, writer = Pipe(duplex=False)
        self.started = time.time()
        self.deadline = time.monotonic() + self.timeout
        try:
            pid = self.forker.fork(
                self.index, [n.name for n in self.view.nodes], self.test_dir, self.tag, self.started, writer, self.keep
            )
        finally:
            writer.close()
        self._pidfd = os.pidfd_open(pid)  # readable once the process has exited
        self.pid, self.conn, self.fd = pid, reader, reader.fileno()

    def fileno(self) -> int:
        """The fd of the pipe from the process (kept after the pipe is closed, as its key)."""
        return self.fd

    def receive(self) -> bool:
        """Read one message; return True once the process has ended (its pipe closed): then
        anything left in its process group is killed; ``reaped()`` tells when it is gone."""
        assert self.conn is not None, "receive() before start() or after the pipe closed"
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            self.conn.close()
            self.conn = None
            self._kill_group()
            return True
        if kind == "started":
            self.services[payload["service_id"]] = payload
        elif kind == "stopped":
            self.services.pop(payload, None)
        elif kind == "teardown":
            self.in_teardown = True
            self.deadline = time.monotonic() + TEARDOWN_TIMEOUT
        elif kind == "uses":
            self.uses = payload
        elif kind == "unswept":
            self.unswept = payload
        elif kind == "kept":
            self.kept = payload
        elif kind == "result":
            self.result = self.new_result(**payload)
        return False

    def new_result(self, **outcome) -> TestResult:
        """The attempt's TestResult, with ``outcome`` (status, duration, error...)."""
        spec = self.spec
        return TestResult(
            spec.test_id,
            spec.module,
            spec.cls.__name__,
            spec.method,
            started=self.started,
            folder=spec.folder,
            params=spec.params,
            nodes=[n.name for n in self.view.nodes],
            selector=spec.selector,
            builds=self.uses.get("builds", []),
            versions=self.uses.get("versions", {}),
            **outcome,
        )

    def kill(self) -> None:
        """SIGKILL the test's process group (the test and every local command it waits on),
        then stop what it left on its nodes: the services it reported, newest first (TERM,
        logs collected, workdir removed), and any other process that carries its tag."""
        self._kill_group()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.reaped(block=True)
        nodes = {n.name: n for n in self.view.nodes}
        for state in reversed(list(self.services.values())):
            stop_recorded(state, nodes, self.test_dir)
        self.services.clear()
        self.unswept = sweep(self.view.nodes, self.tag)

    def reaped(self, block: bool = False) -> bool:
        """Whether the process has exited (``gone``); ``block`` waits for it and reaps it."""
        if self.gone:
            return True
        if block:
            self.exit_status = self.forker.reap(self.pid)
        elif select.select([self._pidfd], [], [], 0)[0]:
            self.forker.reap_later(self.pid)
        else:
            return False
        os.close(self._pidfd)
        self.gone = True
        return True

    def _kill_group(self) -> None:
        """SIGKILL whatever runs in the test's process group (never after it was reaped, so
        the group id cannot have been reused)."""
        if not self.gone:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def stop_recorded(state: dict, nodes: dict[str, Node], test_dir: str) -> None:
    """Stop a service from its reported state: run its undo commands if it has any (faults),
    TERM its process groups (KILL after STOP_TIMEOUT), collect its declared logs, remove its
    workdirs."""
    for entry in state["nodes"]:
        node = nodes[entry["node"]]
        try:
            for command in entry.get("undo", ()):
                log.info("undoing %s on %s: %s", state["service_id"], node.name, command)
                node.account.ssh(command, timeout=STOP_TIMEOUT)
            if "pid_file" not in entry:
                continue
            node.account.kill_process(entry["pid_file"], timeout=STOP_TIMEOUT)
            collect_logs(node, entry["logs"], log_folder(test_dir, state["service_id"], node.name), state["service_id"])
            node.account.remove(entry["workdir"])
        except Exception as exc:  # noqa: BLE001 - keep stopping the rest
            log.error("could not stop %s on %s: %s", state["service_id"], node.name, exc)


def sweep(nodes: list[Node], tag: str) -> list[str]:
    """End every process carrying ``tag`` on ``nodes``; return the names of the nodes where
    that could not be confirmed (they must not be handed to another test)."""
    unconfirmed = []
    for node in nodes:
        try:
            killed = node.account.kill_tagged(tag)
        except Exception as exc:  # noqa: BLE001 - keep sweeping the other nodes
            log.error("could not end the test's processes on %s: %s", node.name, exc)
            unconfirmed.append(node.name)
            continue
        if killed:
            log.warning("killed processes the test left running on %s: %s", node.name, " ".join(map(str, killed)))
    return unconfirmed


# -- in the test process ------------------------------------------------------------------------


def _logger_name(spec: TestSpec) -> str:
    return f"ducttape.test.{spec.cls.__name__}"


def _child(
    spec: TestSpec,
    view: ClusterView,
    test_dir: str,
    params: dict,
    tag: str,
    started: float,
    test_logs: LogFiles,
    conn: Connection,
    settings: RunSettings = RunSettings(),
    keep: bool = False,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the runner decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    for node in view.nodes:
        node.account.after_fork()
        node.account.tag = tag
    test_logs.open(test_dir)  # each record is flushed: nothing to close before the end
    scenario = inspect.getfile(spec.cls)
    where.answer_when_asked(test_dir, scenario)

    def send(kind: str, payload: object) -> None:  # what conn.send does, without its pickler's set-up
        conn.send_bytes(pickle.dumps((kind, payload)))

    outcome = Outcome()
    context = TestContext(
        view,
        test_dir,
        params,
        spec.test_id,
        logging.getLogger(_logger_name(spec)),
        recorder=send,
        case=spec.params,
        settings=settings,
    )
    kept_in = layout.project_of(scenario)
    if kept_in:  # a scenario kept in a build project's folder (kafkatest in kafka-dev) runs it
        context.use_builds(kept_in)
    context.activate()
    test = None
    body_ended = None  # when setUp and the test method ended: its teardown starts
    try:
        if settings.jvm_logs:
            jvm_logs.enable(view.nodes)
        test = spec.cls(context)
        test.setUp()
        try:
            data = getattr(test, spec.method)(**spec.params)
        finally:
            body_ended = time.time()
            test.tearDown()
        outcome.status = PASS
        # as data.json will hold it (and picklable for the runner)
        outcome.data = None if data is None else json.loads(json.dumps(data, default=str))
    except BaseException as exc:  # noqa: BLE001 - the test's failure
        at = where.raised_at(exc.__traceback__, scenario)
        fail(outcome, f"{type(exc).__name__}: {exc}{f' ({at})' if at else ''}", traceback.format_exc(), spec.test_id)
    body_ended = body_ended or time.time()
    if test is not None and test.shown:
        outcome.summary = "\n".join(test.shown)
    if outcome.status == PASS and settings.fail_bad_cluster_utilization and view.most_used < len(view.nodes):
        fail(
            outcome,
            f"bad cluster utilization: it declared {len(view.nodes)} nodes but used at "
            f"most {view.most_used} at once (--fail-bad-cluster-utilization)",
            "",
            spec.test_id,
        )
    context.settle(outcome.status)
    if keep:
        send("kept", [s.state() for s in context.services if s.nodes])
        _send_result(outcome, (started, body_ended), test_dir, send, conn, context)
        return
    if context.services or any(n.account.used for n in view.nodes):
        send("teardown", None)  # the runner gives the teardown its own deadline
    for error in context.teardown():
        if outcome.status == PASS:
            fail(outcome, f"stopping a service failed: {type(error).__name__}: {error}", "", spec.test_id)
    if settings.jvm_logs:
        jvm_logs.collect(context, view.nodes)
    unswept = sweep([n for n in view.nodes if n.account.used], tag)
    if unswept:
        send("unswept", unswept)
        if outcome.status == PASS:
            fail(outcome, f"could not make sure its processes ended on {', '.join(unswept)}", "", spec.test_id)
    _send_result(outcome, (started, body_ended), test_dir, send, conn, context)


def _send_result(
    outcome: "Outcome", times: tuple[float, float], test_dir: str, send, conn: Connection, context: TestContext
) -> None:
    """Write the attempt's data.json and send the runner its outcome (closing the pipe).
    ``times``: when the attempt started and when its body (setUp and the test method) ended."""
    started, body_ended = times
    ended = time.time()
    outcome.duration = ended - started
    outcome.teardown_seconds = ended - body_ended
    outcome.collect_seconds = context.collect_seconds
    for name in ("error", "details", "summary"):  # secrets this process learnt too (secret.add)
        setattr(outcome, name, secret.redact(getattr(outcome, name)))
    outcome.data = secret.redact_data(outcome.data)
    if outcome.data is not None:
        with open(os.path.join(test_dir, "data.json"), "w") as f:
            json.dump(outcome.data, f, indent=2)
            f.write("\n")
    sys.stdout.flush()  # the runner kills the process group once the pipe closes
    sys.stderr.flush()
    send("result", outcome.__dict__)
    conn.close()


class Outcome:
    """What a test process found out about its attempt, sent to the runner as a plain dict
    (the runner knows the rest of the TestResult)."""

    def __init__(self) -> None:
        self.status, self.duration = "", 0.0
        self.error = self.details = self.summary = ""
        self.data: object = None
        self.teardown_seconds = self.collect_seconds = 0.0


def fail(result: TestResult | Outcome, error: str, details: str, test_id: str = "") -> None:
    """Mark ``result`` failed with the one-line ``error`` (and ``details``, e.g. a traceback)."""
    result.status = FAIL
    result.error = error.replace("\n", " | ")
    result.details = details or error
    log.error(
        "%s failed: %s", test_id or (result.test_id if isinstance(result, TestResult) else "a test"), result.error
    )
