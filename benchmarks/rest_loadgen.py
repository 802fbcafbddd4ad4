#!/usr/bin/env python3
"""REST load generator benchmark: is LoadGen the bottleneck of the REST measurements?

Runs the load generator (ducttape/products/performance/LoadGen.java) with the settings of
native_vs_rest_performance (records of 100 bytes, 100 per request, 4 requests in flight, as fast
as it goes; the consumer in binary format) against two targets on this machine, and measures its
own CPU:

- a trivial HTTP sink (benchmarks/HttpSink.java: answers every request at once, no Kafka);
- the Kafka HTTP bridge (RestProxyService) in front of one broker (KafkaService).

If the load generator pushes several times more records per second into the sink than the
bridge answers, the bridge, not the generator, sets the REST figures.

    python3 benchmarks/rest_loadgen.py [--records 2000000] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tabulate import tabulate  # noqa: E402 - after sys.path holds the checkout

from ducttape.cluster.localhost import LocalhostCluster  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.kafka import KafkaService  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.performance import ProducerPerformanceService  # noqa: E402 - after sys.path holds the checkout
from ducttape.build import layout  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.performance.loadgen import LOADGEN, LOADGEN_HEAP, classpath  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.rest_bridge import RestProxyService  # noqa: E402 - after sys.path holds the checkout
from ducttape.runner.context import TestContext  # noqa: E402 - after sys.path holds the checkout

TOPIC = "loadgen"
SINK = os.path.join(HERE, "HttpSink.java")
SINK_ADDRESS = "127.0.0.1"
BATCH, CONCURRENCY, RECORD_SIZE = 100, 4, 100


def loadgen(mode: str, url: str, records: int, seconds: float, group: str) -> dict:
    """Run LoadGen here (producing for ``seconds``, or consuming ``records``); its result line
    plus the CPU seconds it used and its requests per second."""
    args = ["--url", url, "--topic", TOPIC]
    args += (["--record-size", str(RECORD_SIZE), "--seconds", str(seconds), "--warmup-s", "2",
              "--records-per-request", str(BATCH), "--in-flight", str(CONCURRENCY)]
             if mode == "produce" else ["--records", str(records), "--group", group])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(["java", f"-Xmx{LOADGEN_HEAP}", "-cp", classpath(str(layout.build_dir())), LOADGEN,
                           f"{mode}-rest", *args], capture_output=True, text=True, timeout=1800)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"load generator failed against {url}: {proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["requests_per_sec"] = result.get("requests", result.get("polls", 0)) / result["elapsed_s"]
    return result


def start_sink(port: int) -> subprocess.Popen:
    sink = subprocess.Popen(["java", "-Xmx256m", "-Dsun.net.httpserver.nodelay=true", SINK,
                             SINK_ADDRESS, str(port), str(RECORD_SIZE), "2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = sink.stdout.readline()  # blocks until it prints "sink ready" (or exits)
    if "ready" not in line:
        sink.kill()
        sys.exit(f"the sink did not start: {line}")
    return sink


def free_port() -> int:
    with socket.socket() as s:
        s.bind((SINK_ADDRESS, 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2_000_000, help="records consumed per run")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of producing per run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("java"):
        sys.exit("java is not on PATH")

    runs: dict[tuple[str, str], list[dict]] = {}
    scratch = tempfile.mkdtemp(prefix="ducttape-loadgen-")
    sink = start_sink(port := free_port())
    cluster = LocalhostCluster(3, scratch_root=scratch)
    try:
        with TestContext(cluster):  # stops the services made below, newest first
            kafka = KafkaService(cluster, 1, topics={TOPIC: {"partitions": 6}})
            kafka.start()
            bridge = RestProxyService(cluster, 1, kafka, settings={"kafka.producer.acks": 1,
                                                                   "kafka.producer.batch.size": 16384,
                                                                   "kafka.producer.linger.ms": 5})
            bridge.start()
            ProducerPerformanceService(cluster, 1, kafka, TOPIC, args.records, RECORD_SIZE,
                                       settings={"acks": 1}).run()  # warms the broker up
            targets = {"sink": f"http://{SINK_ADDRESS}:{port}", "bridge": bridge.url()}
            for i in range(args.rounds):
                for mode in ("produce", "consume"):
                    for target, url in targets.items():
                        result = loadgen(mode, url, args.records, args.seconds, group=f"loadgen-{i}")
                        runs.setdefault((mode, target), []).append(result)
                        print(f"round {i + 1} {mode} -> {target}: {result['records_per_sec']:,.0f} records/s, "
                              f"{result['requests_per_sec']:,.1f} requests/s, load generator CPU "
                              f"{result['cpu_s']:.1f}s", flush=True)
    finally:
        cluster.close()
        sink.kill()
        sink.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)

    rows = []
    for (mode, target), results in runs.items():
        rate = statistics.median(r["records_per_sec"] for r in results)
        cpu = statistics.median(r["cpu_s"] / r["records"] * 1e6 for r in results)
        latency = [statistics.median(r[k] for r in results) if mode == "produce" else None
                   for k in ("latency_50th_ms", "latency_99th_ms")]
        rows.append((mode, target, rate, statistics.median(r["requests_per_sec"] for r in results),
                     *latency, cpu))
    print()
    print(tabulate(rows, headers=("mode", "target", "records/s", "requests/s", "p50 ms", "p99 ms",
                                  "loadgen CPU s per 1M records"),
                   floatfmt=("", "", ",.0f", ",.1f", ".1f", ".1f", ".2f")))
    for mode in ("produce", "consume"):
        sink_rate = statistics.median(r["records_per_sec"] for r in runs[(mode, "sink")])
        bridge_rate = statistics.median(r["records_per_sec"] for r in runs[(mode, "bridge")])
        print(f"{mode}: the load generator sends {sink_rate / bridge_rate:.1f}x as many records/s "
              f"to the sink as the bridge answers")
    print(f"(records of {RECORD_SIZE} bytes: produced for {args.seconds:g} s per run, {BATCH} per request, "
          f"{CONCURRENCY} in flight, latency per record; {args.records:,} consumed per run; medians of "
          f"{args.rounds} rounds; everything on this machine)")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"took {time.monotonic() - started:.0f}s")
