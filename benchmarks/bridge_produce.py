#!/usr/bin/env python3
"""Produce throughput through the Strimzi Kafka Bridge (REST API v2): requests/s and records/s.

Posts batches of records (default 100 records of 100 bytes, JSON embedded format) to
``POST /topics/TOPIC`` over keep-alive connections from several processes, each with several
threads, for a fixed time, and prints the rate and latency of the requests that succeeded.
Traffic goes only to the URL given (use a loopback address).

    python3 benchmarks/bridge_produce.py --url http://127.0.1.2:8080 --topic bench \\
        [--seconds 10] [--processes 2] [--connections 4] [--batch 100] [--size 100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time
import urllib.parse

CONTENT_TYPE = "application/vnd.kafka.json.v2+json"


def batch_body(batch: int, size: int, worker: int) -> bytes:
    value = "x" * size
    return json.dumps({"records": [{"key": f"w{worker}-{i}", "value": value} for i in range(batch)]}).encode()


def connection_loop(url: str, topic: str, body: bytes, batch: int, deadline: float, out: list) -> None:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = f"/topics/{urllib.parse.quote(topic)}"
    headers = {"Content-Type": CONTENT_TYPE, "Connection": "keep-alive"}
    ok = failed = 0
    latencies = []
    try:
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            latencies.append(time.monotonic() - t0)
            offsets = json.loads(data).get("offsets", []) if resp.status == 200 else []
            if resp.status == 200 and len(offsets) == batch and all("offset" in o for o in offsets):
                ok += 1
            else:
                failed += 1
    finally:
        conn.close()
    out.append((ok, failed, latencies))


def process_main(args: tuple) -> tuple:
    url, topic, seconds, connections, batch, size, worker, start_at = args
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    body = batch_body(batch, size, worker)
    out: list = []
    threads = [threading.Thread(target=connection_loop, args=(url, topic, body, batch, deadline, out))
               for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    ok = sum(o[0] for o in out)
    failed = sum(o[1] for o in out)
    latencies = [x for o in out for x in o[2]]
    return ok, failed, latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--connections", type=int, default=4, help="keep-alive connections per process")
    ap.add_argument("--batch", type=int, default=100, help="records per request")
    ap.add_argument("--size", type=int, default=100, help="bytes per record value")
    a = ap.parse_args()
    start_at = time.time() + 0.5
    jobs = [(a.url, a.topic, a.seconds, a.connections, a.batch, a.size, w, start_at) for w in range(a.processes)]
    with multiprocessing.Pool(a.processes) as pool:
        results = pool.map(process_main, jobs)
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    rps = ok / a.seconds
    print(f"{a.processes} processes x {a.connections} connections, {a.batch} records of {a.size} bytes per request, "
          f"{a.seconds:.0f}s")
    print(f"requests/s: {rps:.0f}   records/s: {rps * a.batch:.0f}   failed requests: {failed}")
    if latencies:
        def p(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        print(f"latency ms: median {statistics.median(latencies) * 1000:.1f}  p99 {p(0.99):.1f}  "
              f"max {latencies[-1] * 1000:.1f}")


if __name__ == "__main__":
    main()
