"""report.html and results/index.html render offline in a real browser (Debian's headless
Chromium): figures as tables, plots that decode, links to files that exist, no raw JSON."""

from __future__ import annotations

import html
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

from browser import Chromium
from report_pages import cut_chart_texts, overflowing
from support import run_cli

from ducttape.runner.figures import figures
from ducttape.runner.reports.tables import figure_tables
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

    # report.html of a test that returned figures: one small table, each figure with its unit,
    # better direction and repeats; the raw data behind a disclosure
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
    raw = re.search(r'<details class="raw"><summary>[^<]*</summary><pre>(.*?)</pre></details>', dom, re.S)
    assert raw and json.loads(html.unescape(raw[1])) == data, "the raw data, behind a disclosure"
    assert dom.index("<img") < dom.index('class="shown"') < dom.index('class="figures"') < raw.start()
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
    dom_index = render(index_path, tmp_path)
    page = parse(dom_index)
    sessions = page.tables["sessions"]
    assert [row[0] for row in sessions[1:]] == sorted((d for d in os.listdir(results) if d.startswith("20")),
                                                      reverse=True)
    assert [row[5:8] for row in sessions[1:]] == [["0", "1", "0"]] + [["1", "0", "0"]] * 3
    assert_links_exist(page, str(results))
    index = json.load(open(os.path.join(results, "index.json")))
    assert {(t["figure"], t["points"]) for t in index["trends"]} == {("latency_median", 3), ("throughput", 3)}
    assert page.images == [] and dom_index.count('<svg class="chart"') == 2  # inline SVG charts
    screenshot(index_path, os.path.join(results, "screenshot-index.png"), tmp_path)


TREND_SCENARIO = os.path.join(SCENARIOS, "trend_figures.py")


@pytest.mark.chromium
@pytest.mark.slow
def test_index_of_five_sessions_marks_the_step_and_not_the_noise(tmp_path):
    """Five sessions of a scenario whose ``stepped`` figure moves 30% after the second and whose
    ``noisy`` figure only varies by 2%: one chart per tracked figure, nothing cut or wider than
    the window, a change point on the step only (the test of `invoke compare`), and no chart of
    a figure the latest run stopped returning."""
    results = tmp_path / "results"
    for params in ([], [], ["level=1.3"], ["level=1.3"], ["level=1.3", "retire=1"]):
        proc = run_cli("test", TREND_SCENARIO, "--results-dir", str(results),
                       *[a for p in params for a in ("--param", p)])
        assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = sorted(d for d in os.listdir(results) if d.startswith("20"))
    index = json.load(open(results / "index.json"))
    trends = {t["figure"]: t for t in index["trends"]}
    assert sorted(trends) == ["noisy", "stepped"], "retired is no longer returned: no chart"
    [step] = trends["stepped"]["change_points"]
    assert (step["first_after"]["session_id"], step["verdict"]) == (ids[2], "worse")
    assert step["change_pct"] == pytest.approx(30, abs=4) and step["p_value"] < 0.05
    assert trends["noisy"]["change_points"] == []
    assert not os.path.exists(results / "trends"), "no plot files beside the page"

    with Chromium(str(tmp_path / "profile"), width=1400, height=900) as browser:
        browser.open((results / "index.html").as_uri())
        charts = browser.evaluate("""Array.from(document.querySelectorAll(".trend")).map(c => ({
            figure: c.dataset.figure, title: c.querySelector("h3").textContent,
            ticks: Array.from(c.querySelectorAll("svg text.xtick")).map(t => t.textContent),
            marks: Array.from(c.querySelectorAll("svg text.mark")).map(t => t.textContent),
            hover: Array.from(c.querySelectorAll("svg g.point title")).map(t => t.textContent)}))""")
        assert sorted(c["figure"] for c in charts) == ["noisy", "stepped"]
        assert cut_chart_texts(browser) == [] and overflowing(browser) == []
        by_figure = {c["figure"]: c for c in charts}
        stepped = by_figure["stepped"]
        assert "stepped (ms), lower is better" in stepped["title"]
        assert [i[-3:] for i in ids] == stepped["ticks"], \
            "each session on the x axis by the short end of its id"
        [mark] = stepped["marks"]  # the step of 30% (its noise moves it a little), as index.json says
        assert mark == f"{step['change_pct']:+.0f}% worse" and by_figure["noisy"]["marks"] == [], mark
        assert len(stepped["hover"]) == 5 and stepped["hover"][0].startswith(f"{ids[0]} (")
        # the filter: by figure, then by test
        shown = browser.evaluate("""(() => { const f = document.getElementById("filter-figure");
            f.value = "noi"; f.dispatchEvent(new Event("input"));
            return Array.from(document.querySelectorAll(".trend")).filter(c => !c.hidden).map(c => c.dataset.figure);
        })()""")
        assert shown == ["noisy"]
        # disclosures are reachable from the keyboard: Tab reaches a summary, Enter opens it
        browser.evaluate('document.getElementById("filter-figure").value = ""; '
                         'document.getElementById("filter-figure").dispatchEvent(new Event("input"))')
        opened = browser.evaluate("""(() => { const s = document.querySelector(".trend details summary");
            s.focus(); return document.activeElement === s; })()""")
        assert opened
        browser.send("Input.dispatchKeyEvent", session=True, type="keyDown", key="Enter", code="Enter",
                     windowsVirtualKeyCode=13, text="\r")
        browser.send("Input.dispatchKeyEvent", session=True, type="keyUp", key="Enter", code="Enter",
                     windowsVirtualKeyCode=13)
        assert browser.evaluate('document.querySelector(".trend details").open')
        browser.screenshot(str(tmp_path / "index.png"))


def test_figure_tables_follow_the_keys_structure():
    """native_vs_rest-shaped data: settings in one turned table, a table per structure with the
    parts that differ as row labels, [min, max] lists as one cell, every figure in one table."""
    at_rate = [{"target": {"value": t, "unit": "records/s"}, "p99": {"value": t / 100, "unit": "ms"},
                "range": {"p99": [t / 110, t / 90]}} for t in (100, 200, 300)]
    data = {"seconds": 5, "loads": [0.25, 0.5, 0.75],
            "native": {"max": {"rate": {"value": 900, "unit": "records/s"}}, "at_rate": at_rate},
            "rest": {"max": {"rate": {"value": 30, "unit": "records/s"}}, "at_rate": at_rate},
            "cases": [{"n": i} for i in range(45)]}
    tables = {t.title: t for t in figure_tables(figures(data))}
    assert sorted(tables) == ["*.at_rate.N", "*.at_rate.N.range", "*.max", "cases.N (rows 1-40)",
                              "cases.N (rows 41-45)", "figures"]
    settings = tables["figures"]
    assert settings.turned and [r[0] for r in settings.rows] == [["seconds"], ["loads"]]
    assert [c.key for c in settings.rows[1][1]["value"].items] == ["loads.0", "loads.1", "loads.2"]
    rates = tables["*.at_rate.N"]
    assert rates.row_headers == ["", "at_rate #"] and rates.columns == ["target", "p99"]
    assert [labels for labels, _ in rates.rows] == [["native", "0"], ["native", "1"], ["native", "2"],
                                                   ["rest", "0"], ["rest", "1"], ["rest", "2"]]
    assert rates.units == {"target": "records/s, higher is better", "p99": "ms, lower is better"}
    assert max(len(t.rows) for t in tables.values()) <= 40
    shown = [c.key for t in tables.values() for _, cells in t.rows for cell in cells.values()
             for c in (cell.items or [cell])]
    assert sorted(shown) == sorted(figures(data))
