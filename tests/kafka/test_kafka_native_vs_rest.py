"""`invoke test native_vs_rest_performance` end to end (small size, short runs): real figures
of both paths, measured alike, with the plots in the results and the report."""

from __future__ import annotations

import json
import os

import pytest

from browser import Chromium
from ducttape.build import manifest
from ducttape.runner.figures import figures
from kafka_helpers import by_method, invoke_test, leftovers, session_dir
from report_pages import figure_cells, largest_figure_table, overflowing

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.chromium]

PARAMS = ["--param", "warmup=1", "--param", "sweep=[10,100]", "--param", "loads=[0.01,0.5]",
          "--param", "budget=1"]
"""Two loads, two sweep points and no repeats past the first seven keep this near 10 minutes on
a shared 2-core machine."""
AT_RATE = ("target_records_per_sec", "records_per_sec", "latency_50th_ms", "latency_99th_ms",
           "latency_999th_ms")


def figure(entry: dict, key: str, unit: str) -> float:
    """The median of figure ``key``, checked: its unit, its seven repeats or more, and the
    interval of the median around it (from order statistics: two of the repeats)."""
    fig = entry[key]
    assert fig["unit"] == unit, entry
    assert len(fig["values"]) == entry["repeats"] >= 7 and isinstance(fig["stable"], bool)
    assert fig["low"] <= fig["value"] <= fig["high"] and {fig["low"], fig["high"]} <= set(fig["values"])
    return fig["value"]


@pytest.mark.timeout(1800)
def test_native_vs_rest_small(built, tmp_path):
    proc, report = invoke_test(tmp_path, "native_vs_rest_performance", *PARAMS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["summary"] == {"PASS": 3, "total": 3}
    tests = by_method(report)
    folder = {name: os.path.join(session_dir(tmp_path), t["folder"]) for name, t in tests.items()}

    produce = tests["NativeVsRestProducerPerformance.test_produce"]
    data = produce["data"]
    assert data["size"] == "small" and data["record_size"] == 100 and data["seconds_per_run"] == 1
    assert data["target"] == {"width_pct": 5.0, "confidence": 0.95, "min_repeats": 7, "budget_s": 1}
    # the loads ran in shuffled blocks, each case once a block; the seed is recorded
    blocks = data["repeats"]["at_rate"]["order"]
    assert len(blocks) == 1 and len(blocks[0].split()) == 7 * 4 and data["repeats"]["at_rate"]["seed"] >= 0
    steps = blocks[0].split()
    assert all(sorted(steps[i:i + 4]) == sorted(steps[:4]) for i in range(0, 28, 4))
    assert len({" ".join(steps[i:i + 4]) for i in range(0, 28, 4)}) > 1, "each block in its own order"
    assert data["batch_size"] == 16384 and data["linger_ms"] == 5 and data["records_per_request"] == 100
    strimzi = manifest.read()["strimzi-kafka-bridge"]
    assert data["bridge"] == {"project": "strimzi-kafka-bridge", "version": "0.33.1", "ref": "0.33.1",
                              "git_sha": strimzi["git_sha"]}
    label = f"REST through strimzi-kafka-bridge 0.33.1 ({strimzi['git_sha'][:12]})"
    produced = folder["NativeVsRestProducerPerformance.test_produce"]
    assert open(os.path.join(produced, "native_vs_rest.txt")).readline().strip() == label
    assert "Strimzi Kafka Bridge 0.33.1 is starting" in open(
        os.path.join(produced, "RestProxyService-1/node2/bridge.log")).read()
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
        # the maximum sustainable rate: a bracket of a passed and a failed probe, below the top
        sustained = data[path]["sustainable"]
        rate = sustained["records_per_sec"]
        assert rate["unit"] == "records/s" and rate["low"] == rate["value"] <= rate["high"]
        assert rate["high"] <= 1.25 * top["records_per_sec"]["value"] * 1.0001
        assert 3 <= len(sustained["probes"]) <= 12
        for probe in sustained["probes"]:  # passed at or below the rate, failed at or above its bracket
            assert (probe["rate"] <= rate["value"] or probe["rate"] > rate["high"] if probe["passed"]
                    else probe["rate"] >= rate["high"]), sustained
        assert isinstance(data[path]["suspect"], list)

    sweep = tests["NativeVsRestProducerPerformance.test_records_per_request"]["data"]
    assert [r["records_per_request"] for r in sweep["rest"]] == [10, 100]
    ten, hundred = sweep["rest"]
    assert hundred["max"]["records_per_sec"]["value"] > ten["max"]["records_per_sec"]["value"], \
        "a hundred records per request must beat ten"
    assert sweep["native"]["at_rate"]["target_records_per_sec"]["value"] == sweep["sweep_rate"]

    consume = tests["NativeVsRestConsumerPerformance.test_consume"]["data"]
    for path in ("native", "rest"):
        assert figure(consume[path], "records", "records") == 200_000
        assert figure(consume[path], "records_per_sec", "records/s") > 0
        assert figure(consume[path], "total_mb", "MB") == pytest.approx(200_000 * 100 / 2**20, rel=1e-3)

    for name, plot in (("NativeVsRestProducerPerformance.test_produce", "latency_vs_throughput.png"),
                       ("NativeVsRestProducerPerformance.test_records_per_request", "records_per_request.png")):
        png = open(os.path.join(folder[name], plot), "rb").read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
        assert json.load(open(os.path.join(folder[name], "data.json"))) == tests[name]["data"]
    html = open(os.path.join(session_dir(tmp_path), "report.html")).read()
    assert html.count('src="data:image/png;base64,') == 2  # the plots, embedded
    report_at_a_glance(tmp_path, report)
    for log in ("KafkaService-1/node1/kafka.log", "RestProxyService-1/node2/bridge.log",
                "InterleavedProducerLoadService-1/node3/tool.log"):
        assert os.path.isfile(os.path.join(folder["NativeVsRestProducerPerformance.test_produce"], log)), log
    # the tables and their legend are shown under each test's line on the console and in report.txt
    assert proc.stdout.count("REST / native") == 2 and proc.stdout.count("95% interval of the median") == 3
    assert "sustainable (p99 < 100 ms)" in proc.stdout
    assert open(os.path.join(session_dir(tmp_path), "report.txt")).read().count("REST / native") == 2
    print(proc.stdout)
    assert not leftovers(tmp_path)


def report_at_a_glance(tmp_path, report: dict) -> None:
    """report.html in headless Chromium at 1400x900: the first test's plot is inside the first
    screenful, nothing is wider than the window, no figure table has more than 40 rows, and
    every figure of every test's data is in a table (by its full key)."""
    with Chromium(str(tmp_path / "chromium-profile"), width=1400, height=900) as browser:
        browser.open(f"file://{session_dir(tmp_path)}/report.html")
        box = browser.evaluate("""(() => { const i = document.querySelector("details.test img.plot");
            const r = i.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, right: r.right,
            width: i.naturalWidth, drawn: i.clientWidth}; })()""")
        assert 0 <= box["top"] and box["bottom"] <= 900 and box["right"] <= 1400, box
        assert box["drawn"] == box["width"], f"the plot is drawn at its size: {box}"
        assert overflowing(browser) == []
        assert 0 < largest_figure_table(browser) <= 40
        expected = sorted(key for t in report["tests"] for key in figures(t["data"]))
        assert len(expected) > 100 and sorted(figure_cells(browser)) == expected
        browser.screenshot(str(tmp_path / "report.png"))
