"""What a finished session of `invoke test native_vs_rest_performance` must hold, whatever its
parameters: real figures of both paths, measured alike, each the median of its repeats with the
interval of that median, the plots in the results and in report.html as a person sees it.

The README's first command runs the scenario at its defaults; tests/fresh/test_fresh_machine.py
checks that session with ``check_session``.
"""

from __future__ import annotations

import json
import os

import pytest

from browser import Chromium
from ducttape.runner.figures import figures
from report_pages import figure_cells, largest_figure_table, overflowing

PRODUCE, SWEEP, CONSUME = (
    "NativeVsRestProducerPerformance.test_produce",
    "NativeVsRestProducerPerformance.test_records_per_request",
    "NativeVsRestConsumerPerformance.test_consume",
)
AT_RATE = ("target_records_per_sec", "records_per_sec", "latency_50th_ms", "latency_99th_ms",
           "latency_999th_ms")


def figure(entry: dict, key: str, unit: str, repeats: int = 7) -> float:
    """The median of figure ``key``, checked: its unit, its ``repeats`` repeats or more, and the
    interval of the median around it (from order statistics: two of the repeats)."""
    fig = entry[key]
    assert fig["unit"] == unit, entry
    assert len(fig["values"]) == entry["repeats"] >= repeats and isinstance(fig["stable"], bool)
    assert fig["low"] <= fig["value"] <= fig["high"] and {fig["low"], fig["high"]} <= set(fig["values"])
    return fig["value"]


def check_session(session: str, report: dict, console: str, bridge_sha: str, browser_dir: str) -> None:
    """Check the session folder ``session`` (its report.json as ``report``, what the command
    printed as ``console``) of the scenario run on the Strimzi bridge 0.33.1 at ``bridge_sha``;
    Chromium's profile and screenshots go in ``browser_dir``."""
    assert report["summary"] == {"PASS": 3, "total": 3}, report["summary"]
    tests = {t["test_id"].split("::", 1)[1]: t for t in report["tests"]}
    folder = {name: os.path.join(session, t["folder"]) for name, t in tests.items()}
    data = tests[PRODUCE]["data"]
    check_produce(data, folder[PRODUCE], bridge_sha)

    sweep = tests[SWEEP]["data"]
    rows = {r["records_per_request"]: r for r in sweep["rest"]}
    assert {10, 100} <= set(rows)
    assert rows[100]["max"]["records_per_sec"]["value"] > rows[10]["max"]["records_per_sec"]["value"], \
        "a hundred records per request must beat ten"
    assert sweep["native"]["at_rate"]["target_records_per_sec"]["value"] == sweep["sweep_rate"]

    consume = tests[CONSUME]["data"]
    for path in ("native", "rest"):
        assert figure(consume[path], "records", "records") == consume["records"] == 200_000
        assert figure(consume[path], "records_per_sec", "records/s") > 0
        assert figure(consume[path], "total_mb", "MB") == pytest.approx(200_000 * 100 / 2**20, rel=1e-3)

    for name, plot in ((PRODUCE, "latency_vs_throughput.png"), (SWEEP, "records_per_request.png")):
        png = open(os.path.join(folder[name], plot), "rb").read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
        assert json.load(open(os.path.join(folder[name], "data.json"))) == tests[name]["data"]
    html = open(os.path.join(session, "report.html")).read()
    assert html.count('src="data:image/png;base64,') == 2  # the plots, embedded
    report_at_a_glance(session, report, browser_dir)
    for log in ("KafkaService-1/node1/kafka.log", "RestProxyService-1/node2/bridge.log",
                "InterleavedProducerLoadService-1/node3/tool.log"):
        assert os.path.isfile(os.path.join(folder[PRODUCE], log)), log
    # the tables and their legend are shown under each test's line on the console and in report.txt
    assert console.count("REST / native") == 2 and console.count("95% interval of the median") == 3
    assert "sustainable (p99 < 100 ms)" in console
    assert open(os.path.join(session, "report.txt")).read().count("REST / native") == 2


def check_produce(data: dict, folder: str, bridge_sha: str) -> None:
    """test_produce's data: settings, the blocks' order, both paths' maxima, sustainable rates
    and figures at every offered load."""
    assert data["size"] == "small" and data["record_size"] == 100 and data["seconds_per_run"] == 1
    target = data["target"]
    assert (target["width_pct"], target["confidence"], target["min_repeats"]) == (5.0, 0.95, 7)
    assert data["batch_size"] == 16384 and data["linger_ms"] == 5 and data["records_per_request"] == 100
    assert data["bridge"] == {"project": "strimzi-kafka-bridge", "version": "0.33.1", "ref": "0.33.1",
                              "git_sha": bridge_sha}
    label = f"REST through strimzi-kafka-bridge 0.33.1 ({bridge_sha[:12]})"
    assert open(os.path.join(folder, "native_vs_rest.txt")).readline().strip() == label
    assert "Strimzi Kafka Bridge 0.33.1 is starting" in open(
        os.path.join(folder, "RestProxyService-1/node2/bridge.log")).read()
    # the loads' first round: 7 blocks, each every case once in an order of its own; seed recorded
    cases = 2 * len(data["loads"])
    steps = data["repeats"]["at_rate"]["order"][0].split()
    assert len(steps) == 7 * cases and data["repeats"]["at_rate"]["seed"] >= 0
    blocks = [steps[i:i + cases] for i in range(0, len(steps), cases)]
    assert all(sorted(block) == sorted(blocks[0]) for block in blocks)
    assert len({" ".join(block) for block in blocks}) > 1, "each block in its own order"

    native_max = figure(data["native"]["max"], "records_per_sec", "records/s")
    targets = [round(f * native_max) for f in data["loads"]]
    for path in ("native", "rest"):
        top = data[path]["max"]
        assert figure(top, "records_per_sec", "records/s") > 0 and figure(top, "mbps", "MB/s") > 0
        # MB/s are the values' bytes actually acknowledged: 100 per record
        assert top["mbps"]["value"] == pytest.approx(top["records_per_sec"]["value"] * 100 / 2**20, rel=0.01)
        assert [e["target_records_per_sec"]["value"] for e in data[path]["at_rate"]] == targets
        for entry in data[path]["at_rate"]:
            for key in AT_RATE:
                assert entry[key]["value"] >= 0
            assert figure(entry, "latency_999th_ms", "ms") >= figure(entry, "latency_99th_ms", "ms") \
                >= figure(entry, "latency_50th_ms", "ms") > 0
            # each run plans every record due in its 1 s; one that falls behind stops sending at
            # 2 s and counts the rest unsent
            planned = round(entry["target_records_per_sec"]["value"] * 1)
            sent, unsent = entry["records"]["values"], entry["records_unsent"]["values"]
            assert all(a + b == planned for a, b in zip(sent, unsent, strict=True))
        check_sustainable(data[path]["sustainable"], 1.25 * top["records_per_sec"]["value"])
        assert isinstance(data[path]["suspect"], list)


def check_sustainable(sustained: dict, top: float) -> None:
    """The maximum sustainable rate: the median of 7 or more independent searches with the
    interval of that median; each search a bracket of a passed and a failed probe below ``top``
    (or capped there), its probes consistent with it."""
    rate, searches = sustained["records_per_sec"], sustained["searches"]
    assert rate["unit"] == "records/s" and len(rate["values"]) == len(searches) >= 7
    assert rate["values"] == [s["rate"] for s in searches]
    assert rate["low"] <= rate["value"] <= rate["high"] and {rate["low"], rate["high"]} <= set(rate["values"])
    if any(s["capped"] for s in searches):
        assert rate["stable"] is False
    for search in searches:
        assert search["low"] == search["rate"] <= search["high"] <= top * 1.0001, search
        assert len(search["probes"]) == 9  # 3 steps of 3 probes
        for probe in search["probes"]:  # passed at or below the rate, failed at or above its bracket
            assert (probe["rate"] <= search["rate"] or probe["rate"] > search["high"] if probe["passed"]
                    else probe["rate"] >= search["high"]), search


def report_at_a_glance(session: str, report: dict, browser_dir: str) -> None:
    """report.html in headless Chromium at 1400x900: the first test's plot is inside the first
    screenful, nothing is wider than the window, no figure table has more than 40 rows, and
    every figure of every test's data is in a table (by its full key)."""
    with Chromium(os.path.join(browser_dir, "chromium-profile"), width=1400, height=900) as browser:
        browser.open(f"file://{session}/report.html")
        box = browser.evaluate("""(() => { const i = document.querySelector("details.test img.plot");
            const r = i.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, right: r.right,
            width: i.naturalWidth, drawn: i.clientWidth}; })()""")
        assert 0 <= box["top"] and box["bottom"] <= 900 and box["right"] <= 1400, box
        assert box["drawn"] == box["width"], f"the plot is drawn at its size: {box}"
        assert overflowing(browser) == []
        assert 0 < largest_figure_table(browser) <= 40
        expected = sorted(key for t in report["tests"] for key in figures(t["data"]))
        assert len(expected) > 100 and sorted(figure_cells(browser)) == expected
        browser.screenshot(os.path.join(browser_dir, "report.png"))
