"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``):
open a page, ask the page what it shows (JavaScript), take a screenshot of one element. The
browser fetches nothing from the network and gets a fresh profile."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time

CHROMIUM = shutil.which("chromium")


class Chromium:
    """One headless Chromium with one page; a context manager that ends the browser."""

    def __init__(self, profile_dir: str, width: int = 1300, height: int = 1400, timeout: float = 60):
        assert CHROMIUM, "chromium is not installed: run ./install.sh"
        self.timeout = timeout
        # the protocol's pipe: Chromium reads commands on its fd 3 and writes answers on fd 4
        commands_r, self._commands = _high_pipe()
        self._answers, answers_w = _high_pipe()

        def on_fds_3_and_4():
            os.dup2(commands_r, 3)
            os.dup2(answers_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--window-size={width},{height}", f"--user-data-dir={profile_dir}",
             "--proxy-server=127.0.0.1:9", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=on_fds_3_and_4, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(commands_r)
        os.close(answers_w)
        self._next_id, self._buffer, self._backlog = 0, b"", []
        try:
            target = self.send("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.send("Page.enable", session=True)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for fd in (self._commands, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def open(self, url: str) -> None:
        """Load ``url`` and wait for its load event (images included)."""
        self._backlog.clear()
        self.send("Page.navigate", session=True, url=url)
        self._wait_for_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def screenshot(self, path: str, clip: dict | None = None) -> str:
        """A PNG of the whole page (``clip``: x, y, width, height in page pixels) into ``path``."""
        if clip is None:
            size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            clip = {"x": 0, "y": 0, "width": size[0], "height": size[1]}
        shot = self.send("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={**clip, "scale": 1})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return path

    # -- the protocol: JSON messages, each ended by a NUL byte --------------------------------

    def send(self, method: str, session: bool = False, **params):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        answer = self._receive(lambda m: m.get("id") == self._next_id, method)
        assert "error" not in answer, f"{method}: {answer['error']}"
        return answer["result"]

    def _wait_for_event(self, name: str) -> dict:
        return self._receive(lambda m: m.get("method") == name, name)

    def _receive(self, wanted, what: str) -> dict:
        """The first message ``wanted`` accepts; the others wait in a backlog for later calls
        (an event may come before the answer to the command that caused it)."""
        for message in self._backlog:
            if wanted(message):
                self._backlog.remove(message)
                return message
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                if "method" in message:  # an event; answers to earlier commands are not waited for
                    self._backlog.append(message)
            left = deadline - time.monotonic()
            assert left > 0, f"Chromium did not answer {what} within {self.timeout:g} s"
            ready, _, _ = select.select([self._answers], [], [], left)
            if ready:
                chunk = os.read(self._answers, 1 << 20)
                assert chunk, f"Chromium closed its pipe (exit {self.proc.poll()}) while {what}"
                self._buffer += chunk


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are numbered above 4, so moving them onto fds 3 and 4 cannot clobber
    one another."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]
