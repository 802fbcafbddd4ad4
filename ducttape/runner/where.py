"""Where a test is: the stacks of its process's threads and the commands it runs on nodes.

When the runner gives up on a test (timeout, Ctrl-C) it first asks the test's process where it
is (``ask``): the process writes ``where.txt`` into the test's folder from a signal handler
(``answer_when_asked``), whose first line names the innermost frame in the scenario's own file
and the command in flight (``in etcd_cluster.py:88 test_kill_leader, waiting on node2:
`etcdctl endpoint status` (19.2s)``), and then every command in flight and every thread's stack.
The same frame names where a failed test raised (``raised_at``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from types import FrameType, TracebackType

from ducttape.remote import in_flight

WHERE_FILE = "where.txt"
SIGNAL = signal.SIGUSR1
"""What the runner sends a test's process to have it write where it is."""
ANSWER_WAIT = 5.0
"""Seconds the runner waits for the answer before it kills the process anyway (a process
stuck in C code, outside the interpreter, cannot answer)."""
_POLL = 0.02


def answer_when_asked(test_dir: str, scenario_file: str) -> None:
    """In a test's process: on ``SIGNAL``, write ``where.txt`` into ``test_dir``."""

    def handler(signum: int, frame: FrameType | None) -> None:
        text = describe(scenario_file, frame)
        tmp = os.path.join(test_dir, f".{WHERE_FILE}.tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(test_dir, WHERE_FILE))

    signal.signal(SIGNAL, handler)


def ask(pid: int, test_dir: str, wait: float = ANSWER_WAIT) -> tuple[str, str]:
    """Have test process ``pid`` write where it is; return the first line (``in FILE:LINE
    FUNCTION, waiting on NODE: `COMMAND` (AGE)``) and the whole text, or ("", "") if it did not
    answer within ``wait`` seconds."""
    path = os.path.join(test_dir, WHERE_FILE)
    try:
        os.remove(path)  # an earlier attempt's
    except FileNotFoundError:
        pass
    try:
        os.kill(pid, SIGNAL)
    except ProcessLookupError:
        return "", ""
    deadline = time.monotonic() + wait
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            return "", ""
        time.sleep(_POLL)
    with open(path) as f:
        text = f.read()
    return text.split("\n", 1)[0], text


def describe(scenario_file: str, interrupted: FrameType | None = None) -> str:
    """Where this process is: a headline (as ``ask`` returns it), the commands in flight and the
    stacks of all threads. ``interrupted``: the frame a signal handler interrupted (the
    handler's own frames are left out of its thread's stack)."""
    scenario = os.path.realpath(scenario_file)
    names = {t.ident: t.name for t in threading.enumerate()}
    me = threading.get_ident()
    stacks: dict[int, list[traceback.FrameSummary]] = {}
    for ident, frame in sys._current_frames().items():
        if ident == me:
            if interrupted is None:
                continue
            frame = interrupted
        stacks[ident] = _below_runner(traceback.extract_stack(frame))
    commands = in_flight.snapshot()
    headline = _headline(scenario, stacks, commands, threading.main_thread().ident)
    lines = [headline or "(no frame in the scenario's file)", ""]
    if commands:
        lines.append("commands in flight, oldest first:")
        lines += [f"  {c.node}: `{c.command}` for {c.age():.1f}s (thread {c.thread})" for c in commands]
    else:
        lines.append("no command in flight on any node")
    main = threading.main_thread().ident
    for ident, stack in sorted(stacks.items(), key=lambda item: (item[0] != main, str(names.get(item[0])))):
        lines += [
            "",
            f"thread {names.get(ident, ident)}:",
            *"".join(traceback.format_list(stack)).rstrip("\n").split("\n"),
        ]
    return "\n".join(lines) + "\n"


def _headline(scenario: str, stacks: dict, commands: list[in_flight.Running], main: int | None) -> str:
    """``in FILE:LINE FUNCTION, waiting on NODE: `COMMAND` (AGE)``: a command in flight from a
    thread that is in the scenario's code (the oldest such), else the main thread's innermost
    scenario frame and the oldest command in flight."""
    for command in commands:
        frame = _innermost(stacks.get(command.thread_id, []), scenario)
        if frame is not None:
            return f"in {frame_name(frame)}, waiting on {_command(command)}"
    frame = _innermost(stacks.get(main, []), scenario)
    if frame is None:
        frame = next((f for stack in stacks.values() if (f := _innermost(stack, scenario))), None)
    parts = [f"in {frame_name(frame)}"] if frame is not None else []
    if commands:
        parts.append(f"waiting on {_command(commands[0])}")
    return ", ".join(parts)


def _command(command: in_flight.Running) -> str:
    return f"{command.node}: `{command.command}` ({command.age():.1f}s)"


def raised_at(tb: TracebackType | None, scenario_file: str) -> str:
    """``FILE:LINE FUNCTION`` of the innermost frame of traceback ``tb`` in the scenario's
    file, or ''."""
    frame = _innermost(traceback.extract_tb(tb), os.path.realpath(scenario_file))
    return frame_name(frame) if frame is not None else ""


def frame_name(frame: traceback.FrameSummary) -> str:
    """``etcd_cluster.py:88 test_kill_leader``."""
    return f"{os.path.basename(frame.filename)}:{frame.lineno} {frame.name}"


_RUNNER = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _below_runner(stack: list[traceback.FrameSummary]) -> list[traceback.FrameSummary]:
    """``stack`` without the frames down to the runner's last (how the process came to run the
    test), unless that would leave nothing."""
    last = max((i for i, f in enumerate(stack) if f.filename.startswith(_RUNNER)), default=-1)
    return stack[last + 1 :] if last + 1 < len(stack) else stack


_real: dict[str, str] = {}


def _innermost(stack: list[traceback.FrameSummary], scenario: str) -> traceback.FrameSummary | None:
    for frame in reversed(stack):
        real = _real.get(frame.filename)
        if real is None:
            real = _real[frame.filename] = os.path.realpath(frame.filename)
        if real == scenario:
            return frame
    return None
