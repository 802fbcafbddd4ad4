#!/usr/bin/env python3
"""Fidelity benchmark: does the framework's native producer figure match Kafka's own tool?

Starts one broker (KafkaService on the localhost cluster, the topic of native_vs_rest_performance:
6 partitions) and, in the same run, measures producer throughput two ways, alternating:

- framework: ProducerPerformanceService (ProducerPerformance on a logical node, through the
  service, its output parsed while it runs);
- by hand: the same ProducerPerformance with the same arguments and JVM options, started here
  with plain ``subprocess`` and its last line read with a regex of this script's own.

A first run, not counted, warms the broker up. Each round runs both, one right after the other
(which goes first alternates). It prints each round, the medians, and the median of the rounds'
ratios, which is the verdict: on a machine whose load drifts (other work on its cores), pairing
runs in time cancels most of the drift. The target is within 10% of 1.

    python3 benchmarks/fidelity.py [--records 5000000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tabulate import tabulate  # noqa: E402 - after sys.path holds the checkout

from ducttape.build import layout, manifest  # noqa: E402 - after sys.path holds the checkout
from ducttape.cluster.localhost import LocalhostCluster  # noqa: E402 - after sys.path holds the checkout
from ducttape.products import jvm  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.kafka import KafkaService  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.performance import ProducerPerformanceService  # noqa: E402 - after sys.path holds the checkout
from ducttape.products.templates import render  # noqa: E402 - after sys.path holds the checkout

TOPIC = "fidelity"
FINAL = re.compile(r"^(\d+) records sent, ([\d.]+) records/sec .* 99\.9th\.$")


def by_hand(arguments: list[str], java_opts: str) -> float:
    """ProducerPerformance run directly; its records/sec from its final line."""
    cmd = [str(layout.build_dir() / layout.launcher("kafka")),
           manifest.main_class("kafka", "producer-perf"), *arguments]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "JAVA_OPTS": java_opts})
    lines = [m for m in map(FINAL.match, proc.stdout.splitlines()) if m]
    if proc.returncode != 0 or not lines:
        sys.exit(f"ProducerPerformance by hand failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return float(lines[-1][2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    settings = {"acks": 1, "batch.size": 8196}
    with tempfile.TemporaryDirectory(prefix="ducttape-fidelity-") as scratch:
        cluster = LocalhostCluster(2, scratch_root=scratch)
        kafka = KafkaService(cluster, 1, topics={TOPIC: {"partitions": 6}})
        rows = []
        log4j = os.path.join(scratch, "tools-log4j2.properties")
        with open(log4j, "w") as f:
            f.write(render("log4j2.properties.j2", target="SYSTEM_ERR", level="WARN", loggers={}))
        java_opts = jvm.opts(jvm.TOOL_HEAP, f"-Dlog4j2.configurationFile={log4j}")  # as the service's
        try:
            kafka.start()
            # one run not counted: the first one on a fresh broker is slower (JIT, page cache)
            warm_up = ProducerPerformanceService(cluster, 1, kafka, TOPIC, args.records, 100, settings=settings)
            print(f"warm-up: by hand {by_hand(warm_up.arguments(), java_opts):,.0f} records/s", flush=True)
            for i in range(1, args.rounds + 1):
                service = ProducerPerformanceService(cluster, 1, kafka, TOPIC, args.records, 100,
                                                     settings=settings)

                def framework(service: ProducerPerformanceService = service) -> float:
                    service.run()
                    return service.results[0]["records_per_sec"]

                def hand(service: ProducerPerformanceService = service) -> float:
                    return by_hand(service.arguments(), java_opts)

                # alternate which goes first, so a drift in the machine's load hits both alike
                first, second = (framework, hand) if i % 2 else (hand, framework)
                results = {first.__name__: first(), second.__name__: second()}
                rows.append((i, results["framework"], results["hand"], results["framework"] / results["hand"]))
                print(f"round {i}: framework {results['framework']:,.0f} records/s, "
                      f"by hand {results['hand']:,.0f} records/s", flush=True)
        finally:
            kafka.stop()
            cluster.close()

    fw, hd = statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)
    ratio = statistics.median(r[3] for r in rows)
    print()
    print(tabulate([*rows, ("median", fw, hd, ratio)],
                   headers=("round", "framework records/s", "by hand records/s", "ratio"),
                   floatfmt=("", ",.0f", ",.0f", ".3f")))
    print(f"\n{args.records:,} records of 100 bytes, acks=1, batch.size=8196, 6 partitions, "
          f"{args.rounds} rounds; median ratio framework / by hand {ratio:.3f} "
          f"(ratio of the medians {fw / hd:.3f}): "
          f"{'within' if abs(ratio - 1) <= 0.10 else 'OUTSIDE'} 10%")


if __name__ == "__main__":
    main()
