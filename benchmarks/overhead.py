"""Per-test overhead against session size: ``python3 benchmarks/overhead.py [--runs 3]``.

Runs sessions of 1, 50, 500, 2,000 and 5,000 trivial tests (one node each, doing nothing; see
scenarios.py) on ducttape's localhost cluster, and of 1, 50 and 500 on ducktape 0.17.0's
(installed into benchmarks/.venv-ducktape by env.py), each as a user runs it (``invoke test``,
``ducktape``), start-up included. Per test at N is (T(N) - T(1)) / (N - 1): what one more test
costs in a session of N, start-up and fixed costs cancelled; the same difference of the CPU time
(user + system) of the session's processes says what a test costs when the machine is shared:
wall time then includes waiting for a core. Every session runs ``--runs`` times, sizes
interleaved; medians (min-max) are printed with the load average. Each ducttape test runs in
its own forked process.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tabulate import tabulate

import env
import scenarios

SIZES = {"ducttape": (1, 50, 500, 2000, 5000), "ducktape 0.17.0": (1, 50, 500)}
TIMEOUT = 3600
TARGET_AT_5000_MS = 5.0
TARGET_AT_50_MS = 10.0
MAX_GROWTH = 1.5


def session(framework: str, module: str, n: int, work: str, ducktape_bin: str) -> tuple[float, float]:
    """Wall and CPU seconds of one whole session of the ``n`` tests in ``module`` (CPU: user +
    system of the session and every process it waited for); checks that all passed."""
    results = os.path.join(work, "results")
    shutil.rmtree(results, ignore_errors=True)
    if framework == "ducttape":
        cmd = [sys.executable, "-m", "invoke", "test", module, "--cluster", "localhost:1",
               "--results-dir", results]
        cwd, expect, extra = env.REPO, rf"\b{n} passed, 0 failed", {}
    else:
        cmd = [ducktape_bin, module, "--results-root", results,
               "--cluster", "ducktape.cluster.localhost.LocalhostCluster"]
        cwd, expect, extra = work, rf"passed:\s+{n}\b", {"HOME": work}  # ducktape keeps state in ~
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, **extra})
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    shutil.rmtree(results, ignore_errors=True)
    if proc.returncode != 0 or not re.search(expect, proc.stdout):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode} without /{expect}/:\n"
                           f"{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return seconds, cpu


def fmt(values: list[float], digits: int = 2) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="sessions per size (default 3)")
    parser.add_argument("--no-ducktape", action="store_true", help="measure ducttape only")
    args = parser.parse_args()
    if args.runs < 1:
        print("overhead.py: --runs is at least 1", file=sys.stderr)
        return 2
    frameworks = ["ducttape"] + ([] if args.no_ducktape else ["ducktape 0.17.0"])
    ducktape_bin = "" if args.no_ducktape else os.path.join(os.path.dirname(env.ducktape_python()), "ducktape")
    work = tempfile.mkdtemp(prefix="ducttape-overhead-")
    sizes = sorted({n for f in frameworks for n in SIZES[f]})
    modules = {n: scenarios.write(os.path.join(work, f"trivial-{n}"), n) for n in sizes}
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    walls: dict[tuple[str, int], list[float]] = {}
    cpus: dict[tuple[str, int], list[float]] = {}
    try:
        for run in range(1, args.runs + 1):
            for framework in frameworks:
                for n in SIZES[framework]:
                    module = modules[n][0 if framework == "ducttape" else 1]
                    seconds, cpu = session(framework, module, n, work, ducktape_bin)
                    walls.setdefault((framework, n), []).append(seconds)
                    cpus.setdefault((framework, n), []).append(cpu)
                    print(f"[run {run}/{args.runs}] {framework}, {n} tests: {seconds:.2f} s, "
                          f"CPU {cpu:.2f} s (load {os.getloadavg()[0]:.2f})", flush=True)
            # the table so far after every run: a long benchmark cut short still has its figures
            print(f"\n{started}; {os.cpu_count()} CPUs; {run} run(s) per size; load average "
                  f"(1, 5, 15 min) {' '.join(f'{x:.2f}' for x in load_before)} before, "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} now")
            print(table(frameworks, sizes, walls, cpus), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def per_test(times: dict, framework: str, n: int) -> list[float]:
    """Per test in ms at ``n``: run k's session of n against run k's session of 1 (the same
    moment's load)."""
    pairs = zip(times[(framework, n)], times[(framework, 1)], strict=True)
    return [(many - one) / (n - 1) * 1000 for many, one in pairs]


def table(frameworks: list[str], sizes: list[int], walls: dict, cpus: dict) -> str:
    rows = []
    for n in sizes[1:]:
        row = [f"{n:,}"]
        for framework in frameworks:
            if n in SIZES[framework]:
                row += [fmt(per_test(walls, framework, n)), fmt(per_test(cpus, framework, n)),
                        fmt(walls[(framework, n)], 1)]
            else:
                row += ["", "", ""]
        rows.append(row)
    headers = ["tests"] + [h for f in frameworks for h in (
        f"{f}: per test, wall (ms)", f"{f}: per test, CPU (ms)", f"{f}: session, wall (s)")]
    lines = ["sessions of 1 test: " + "; ".join(f"{f} {fmt(walls[(f, 1)])} s" for f in frameworks),
             tabulate(rows, headers=headers, tablefmt="github"), ""]
    for kind, times in (("wall", walls), ("CPU", cpus)):
        at50 = statistics.median(per_test(times, "ducttape", 50))
        at5000 = statistics.median(per_test(times, "ducttape", 5000))
        for label, ok in (
                (f"per test at 50 ≤ {TARGET_AT_50_MS:g} ms: {at50:.2f} ms", at50 <= TARGET_AT_50_MS),
                (f"per test at 5,000 ≤ {TARGET_AT_5000_MS:g} ms: {at5000:.2f} ms",
                 at5000 <= TARGET_AT_5000_MS),
                (f"per test at 5,000 ≤ {MAX_GROWTH:g}× at 50: {at5000 / at50:.2f}×",
                 at5000 <= MAX_GROWTH * at50)):
            lines.append(f"{'met' if ok else 'MISSED'} ({kind}): ducttape {label}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
