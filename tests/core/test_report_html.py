"""report.html and results/index.html render offline in a real browser (Debian's headless
Chromium): figures as tables, plots that decode, links to files that exist, no raw JSON."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from html.parser import HTMLParser

import pytest
from PIL import Image

from support import run_cli
from test_runner_cli import SCENARIOS, session

CHROMIUM = shutil.which("chromium")


def chromium(tmp_path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium with networking refused and a fresh profile."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--proxy-server=127.0.0.1:9", *args],
        capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def render(path: str, tmp_path) -> str:
    """The DOM of ``path`` after Chromium loaded and rendered it."""
    return chromium(tmp_path, "--dump-dom", f"file://{path}").stdout


def screenshot(path: str, out: str, tmp_path, size: str = "1300,1400") -> None:
    chromium(tmp_path, f"--window-size={size}", "--hide-scrollbars", f"--screenshot={out}", f"file://{path}")
    assert Image.open(out).size == tuple(int(n) for n in size.split(","))


class Page(HTMLParser):
    """The tests' summary cells, tables by id/class (rows of cell texts), links and images."""

    def __init__(self):
        super().__init__()
        self.tests, self.tables, self.links, self.images = [], {}, [], []
        self.marks: dict[str, list[str]] = {}
        self._text, self._summary, self._table, self._mark = None, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "details" and "test" in a.get("class", "").split():
            self._summary = "pending"
        elif tag == "summary" and self._summary == "pending":
            self._summary = []
            self.tests.append(self._summary)
        elif tag == "span" and isinstance(self._summary, list):
            self._text = []
        elif tag == "table":
            self._table = self.tables.setdefault(a.get("id") or a.get("class"), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._text = []
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "img":
            self.images.append(a["src"])
        elif tag in ("mark", "code") and a.get("class"):
            self._mark = self.marks.setdefault(a["class"], [])
            self._mark.append("")

    def handle_endtag(self, tag):
        if tag == "span" and isinstance(self._summary, list) and self._text is not None:
            self._summary.append("".join(self._text).strip())
            self._text = None
        elif tag == "summary" and isinstance(self._summary, list):
            self._summary = None
        elif tag in ("td", "th") and self._table is not None and self._text is not None:
            self._table[-1].append("".join(self._text).strip())
            self._text = None
        elif tag == "table":
            self._table = None
        elif tag in ("mark", "code"):
            self._mark = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)
        if self._mark is not None:
            self._mark[-1] += data


def parse(dom: str) -> Page:
    page = Page()
    page.feed(dom)
    return page


def assert_links_exist(page: Page, base: str) -> None:
    assert page.links
    for href in page.links:
        assert not re.match(r"(https?:)?//", href), f"the page must not link anything remote: {href}"
        target = os.path.join(base, urllib.parse.unquote(href.split("#")[0]))
        assert os.path.exists(target), f"{href} points to nothing ({target})"


def decode(src: str, base: str) -> Image.Image:
    """The image an <img src> shows: a data: URI or a file relative to ``base``."""
    if src.startswith("data:image/png;base64,"):
        import base64
        raw = base64.b64decode(src.split(",", 1)[1], validate=True)
    else:
        assert not re.match(r"(https?:)?//", src), src
        raw = open(os.path.join(base, urllib.parse.unquote(src)), "rb").read()
    image = Image.open(io.BytesIO(raw))
    image.load()
    assert image.format == "PNG" and image.size[0] >= 300 and image.size[1] >= 150
    return image


@pytest.mark.chromium
def test_report_lists_every_test_with_its_status(tmp_path):
    assert CHROMIUM, "chromium is not installed: run ./install.sh"
    results = tmp_path / "results"
    proc = run_cli("test", os.path.join(SCENARIOS, "hanging.py"), "--timeout", "2", "--results-dir", str(results))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    html_path = os.path.join(session(results), "report.html")
    page = parse(render(html_path, tmp_path))
    assert [(t[0], t[1]) for t in page.tests] == [("hanging::HangingTest.test_hangs", "FAIL"),
                                                ("hanging::AfterTest.test_runs_next", "PASS")]
    assert "timed out after 2s" in page.tests[0][4]


@pytest.mark.chromium
@pytest.mark.slow
def test_report_and_index_in_chromium(tmp_path):
    """Three sessions of sample_latency (figures with repeats, a plot, a service log) and one of
    a failing remote command: the pages show it all, offline, and the index has 3-point trends."""
    assert CHROMIUM, "chromium is not installed: run ./install.sh"
    results = tmp_path / "results"
    for _ in range(3):
        proc = run_cli("test", "sample_latency", "--param", "repeats=3", "--results-dir", str(results))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    latency_session = session(results)
    proc = run_cli("test", os.path.join(SCENARIOS, "failing.py"), "--results-dir", str(results))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failing_session = session(results)

    # report.html of a test that returned figures
    html_path = os.path.join(latency_session, "report.html")
    dom = render(html_path, tmp_path)
    page = parse(dom)
    assert [t[:2] for t in page.tests] == [["sample_latency::SampleLatencyTest.test_echo", "PASS"]]
    figures = {row[0]: row[1:] for row in page.tables["figures"][1:]}
    assert figures["latency_median"][1:3] == ["ms", "lower"] and figures["latency_median"][3].startswith("3: ")
    assert figures["throughput"][1:3] == ["requests/s", "higher"]
    assert 0.5 < float(figures["latency_median"][0]) < 50
    assert_links_exist(page, latency_session)
    test_dir = "sample_latency.SampleLatencyTest.test_echo"
    for wanted in ("data.json", "test_log.info", "EchoService-1/node1/service.log"):
        assert f"{test_dir}/{wanted}" in page.links, (wanted, page.links)
    [plot] = page.images
    assert plot.startswith("data:image/png;base64,")  # latency.png, embedded: one self-contained file
    decode(plot, latency_session)
    data = json.load(open(os.path.join(latency_session, test_dir, "data.json")))
    assert '"unit"' not in dom and '"values"' not in dom and json.dumps(data) not in dom, "raw figure JSON on the page"
    report = json.load(open(os.path.join(latency_session, "report.json")))
    [test] = report["tests"]  # report.json carries what the page shows
    assert {f["name"]: f["better"] for f in test["figures"]} == {
        "delay_ms": "", "requests": "", "latency_median": "lower", "throughput": "higher"}
    assert test["plots"] == [f"{test_dir}/latency.png"] and test["data_file"] == f"{test_dir}/data.json"
    assert test["service_logs"] == [{"service": "EchoService-1", "node": "node1",
                                     "files": [f"{test_dir}/EchoService-1/node1/service.log"]}]
    screenshot(html_path, os.path.join(latency_session, "screenshot-report.png"), tmp_path)

    # the failing command and its node, highlighted
    page = parse(render(os.path.join(failing_session, "report.html"), tmp_path))
    assert page.marks["node"] == ["node1"] and page.marks["cmd"] == ["echo 'disk on fire' >&2; exit 3"]
    assert_links_exist(page, failing_session)
    assert "failing.FailingTest.test_exit_3/SleeperService-1/node2/service.log" in page.links

    # the index: every session, a 3-point trend per figure with a unit
    index_path = os.path.join(results, "index.html")
    page = parse(render(index_path, tmp_path))
    sessions = page.tables["sessions"]
    assert [row[0] for row in sessions[1:]] == sorted((d for d in os.listdir(results) if d.startswith("20")),
                                                      reverse=True)
    assert [row[5:8] for row in sessions[1:]] == [["0", "1", "0"]] + [["1", "0", "0"]] * 3
    assert_links_exist(page, str(results))
    index = json.load(open(os.path.join(results, "index.json")))
    assert {(t["figure"], t["points"]) for t in index["trends"]} == {("latency_median", 3), ("throughput", 3)}
    assert len(page.images) == 2
    for src in page.images:
        decode(src, str(results))
    screenshot(index_path, os.path.join(results, "screenshot-index.png"), tmp_path)
