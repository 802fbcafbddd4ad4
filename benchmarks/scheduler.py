#!/usr/bin/env python3
"""Scheduler benchmark: how close `invoke test --max-parallel` packs tests onto the nodes.

Runs the 40 tests of scheduler_suite.py (1-4 nodes each, fixed hold times) on an 8-node localhost
cluster and prints the makespan against the ideal bound max(total node-seconds / nodes, longest
test). A ratio (bound / makespan) of 1.0 is perfect packing; the target is >= 0.9.

    python3 benchmarks/scheduler.py [--runs 3] [--max-parallel 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
NODES = 8


def one_run(max_parallel: int) -> dict:
    with tempfile.TemporaryDirectory() as results:
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "invoke", "test", os.path.join(HERE, "scheduler_suite.py"),
                               "--cluster", f"localhost:{NODES}", "--max-parallel", str(max_parallel),
                               "--results-dir", results], cwd=REPO, capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"the suite failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        with open(os.path.join(results, "latest", "report.json")) as f:
            tests = json.load(f)["tests"]
    first = min(t["started"] for t in tests)
    makespan = max(t["started"] + t["duration"] for t in tests) - first
    node_seconds = sum(t["data"]["nodes"] * t["data"]["seconds"] for t in tests)
    bound = max(node_seconds / NODES, max(t["data"]["seconds"] for t in tests))
    overhead = sum(t["duration"] - t["data"]["seconds"] for t in tests) / len(tests)
    return {"makespan": makespan, "bound": bound, "ratio": bound / makespan, "wall": wall,
            "overhead": overhead, "tests": len(tests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-parallel", type=int, default=NODES)
    args = parser.parse_args()
    runs = []
    for i in range(1, args.runs + 1):
        r = one_run(args.max_parallel)
        runs.append(r)
        print(f"run {i}: {r['tests']} tests, makespan {r['makespan']:.2f} s, bound {r['bound']:.2f} s, "
              f"ratio {r['ratio']:.3f}, per-test overhead {r['overhead'] * 1000:.0f} ms, "
              f"wall incl. start-up {r['wall']:.2f} s", flush=True)
    ratios = sorted(r["ratio"] for r in runs)
    print(f"\nratio bound/makespan over {len(runs)} runs: min {ratios[0]:.3f}, median "
          f"{statistics.median(ratios):.3f}, max {ratios[-1]:.3f} (target >= 0.9) on {NODES} localhost "
          f"nodes, --max-parallel {args.max_parallel}; machine load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
