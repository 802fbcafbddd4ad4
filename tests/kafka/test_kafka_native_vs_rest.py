"""`invoke test native_vs_rest_performance` end to end (small size, short runs): real figures
of both paths, measured alike, with the plots in the results and the report."""

from __future__ import annotations

import json
import os

import pytest

from ducttape.build import manifest
from kafka_helpers import by_method, invoke_test, leftovers, session_dir

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PARAMS = ["--param", "seconds=3", "--param", "warmup=1", "--param", "sweep=[10,100]"]
"""Short runs and two sweep points keep this near 10 minutes on a shared 2-core machine."""
AT_RATE = ("target_records_per_sec", "records_per_sec", "latency_50th_ms", "latency_99th_ms",
           "latency_999th_ms")


def figure(entry: dict, key: str, unit: str) -> float:
    assert entry[key]["unit"] == unit, entry
    low, high = entry["range"][key]
    assert low <= entry[key]["value"] <= high
    return entry[key]["value"]


@pytest.mark.timeout(1800)
def test_native_vs_rest_small(built, tmp_path):
    proc, report = invoke_test(tmp_path, "native_vs_rest_performance", *PARAMS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["summary"] == {"PASS": 3, "total": 3}
    tests = by_method(report)
    folder = {name: os.path.join(session_dir(tmp_path), t["folder"]) for name, t in tests.items()}

    produce = tests["NativeVsRestProducerPerformance.test_produce"]
    data = produce["data"]
    assert data["size"] == "small" and data["repeats"] == 1 and data["record_size"] == 100
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
            # each run plans every record due in its 3 s; one that falls behind stops sending at
            # 6 s and counts the rest unsent
            planned = round(entry["target_records_per_sec"]["value"] * 3)
            assert entry["records"]["value"] + entry["records_unsent"]["value"] == planned

    sweep = tests["NativeVsRestProducerPerformance.test_records_per_request"]["data"]
    assert [r["records_per_request"] for r in sweep["rest"]] == [10, 100]
    ten, hundred = sweep["rest"]
    assert hundred["max"]["records_per_sec"]["value"] > ten["max"]["records_per_sec"]["value"], \
        "a hundred records per request must beat ten"
    assert sweep["native"]["at_rate"]["target_records_per_sec"]["value"] == sweep["sweep_rate"]

    consume = tests["NativeVsRestConsumerPerformance.test_consume"]["data"]
    for path in ("native", "rest"):
        assert figure(consume[path], "records", "records") == 2_000_000
        assert figure(consume[path], "records_per_sec", "records/s") > 0
        assert figure(consume[path], "total_mb", "MB") == pytest.approx(2_000_000 * 100 / 2**20, rel=1e-3)

    for name, plot in (("NativeVsRestProducerPerformance.test_produce", "latency_vs_throughput.png"),
                       ("NativeVsRestProducerPerformance.test_records_per_request", "records_per_request.png")):
        png = open(os.path.join(folder[name], plot), "rb").read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
        assert json.load(open(os.path.join(folder[name], "data.json"))) == tests[name]["data"]
    html = open(os.path.join(session_dir(tmp_path), "report.html")).read()
    assert html.count('src="data:image/png;base64,') == 2  # the plots, embedded
    for log in ("KafkaService-1/node1/kafka.log", "RestProxyService-1/node2/bridge.log",
                "NativeProducerLoadService-1/node3/tool.log", "RestProducerLoadService-1/node3/tool.log"):
        assert os.path.isfile(os.path.join(folder["NativeVsRestProducerPerformance.test_produce"], log)), log
    # the tables and their legend are shown under each test's line on the console and in report.txt
    assert proc.stdout.count("REST / native") == 2 and proc.stdout.count("latency per record, from its due time") == 2
    assert open(os.path.join(session_dir(tmp_path), "report.txt")).read().count("REST / native") == 2
    print(proc.stdout)
    assert not leftovers(tmp_path)
