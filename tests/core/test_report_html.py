"""report.html renders offline in a real browser (Debian's headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from support import run_cli
from test_runner_cli import SCENARIOS, session

CHROMIUM = shutil.which("chromium")


def render(path: str, tmp_path) -> str:
    """The DOM of ``path`` after Chromium loaded and rendered it, with networking refused."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}",
         "--proxy-server=127.0.0.1:9", "--dump-dom", f"file://{path}"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class Rows(HTMLParser):
    """Collects the text of each cell of table#tests."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell, self._in_tests = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "tests") in attrs:
            self._in_tests = True
        elif self._in_tests and tag == "tr":
            self.rows.append([])
        elif self._in_tests and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._in_tests = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.mark.chromium
def test_report_lists_every_test_with_its_status(tmp_path):
    assert CHROMIUM, "chromium is not installed: run ./install.sh"
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "hanging.py"), "--timeout", "2", "--results-dir", str(results))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    html_path = os.path.join(session(results), "report.html")
    text = open(html_path).read()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "the report must not load anything remote"
    parser = Rows()
    parser.feed(render(html_path, tmp_path))
    header, *rows = parser.rows
    assert header[:2] == ["test", "status"]
    assert [(r[0], r[1]) for r in rows] == [("hanging::HangingTest.test_hangs", "FAIL"),
                                          ("hanging::AfterTest.test_runs_next", "PASS")]
    assert "timed out after 2s" in rows[0][4]
