"""Do the headline figures of native_vs_rest_performance hold still?

Runs the default ``invoke test native_vs_rest_performance`` several times (3) on the same code,
build and settings, one after the other, and prints for each headline figure every run's median
and 95% interval, how far apart the medians are, whether the intervals overlap (all of them share
a point), and whether each median is within ±10% of their common median or marked unstable: the
figure holds when its intervals overlap and every run is within ±10% or unstable. The machine's
1-minute load average is sampled every 10 s meanwhile and printed with the table.

``--busy-cores N`` makes the machine noisy in a way that can be repeated: N processes that keep
a core busy each (another job beside the runs, such as a compiler) run from before the first run
to after the last.

    .venv/bin/python benchmarks/stability.py            # --runs N, --busy-cores N, --results-dir DIR, --param k=v

Run it from the worktree root after ``invoke build``; it takes about as long as the runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time

from tabulate import tabulate

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from ducttape.runner.figures import figures  # noqa: E402  (after the path of this checkout)

HEADLINES = (
    ("NativeVsRestProducerPerformance.test_produce", "native.max.records_per_sec"),
    ("NativeVsRestProducerPerformance.test_produce", "rest.max.records_per_sec"),
    ("NativeVsRestProducerPerformance.test_produce", "native.sustainable.records_per_sec"),
    ("NativeVsRestProducerPerformance.test_produce", "rest.sustainable.records_per_sec"),
    ("NativeVsRestProducerPerformance.test_records_per_request", "rest.2.max.records_per_sec"),
    ("NativeVsRestConsumerPerformance.test_consume", "native.records_per_sec"),
    ("NativeVsRestConsumerPerformance.test_consume", "rest.records_per_sec"),
)
"""(test, figure): the maxima and maximum sustainable rates of both paths, REST at 100 records
per request in the sweep, and both paths' consume rates."""
TOLERANCE = 0.10


def run_once(results_dir: str, params: list[str]) -> tuple[str, float]:
    """One default run; its session folder and how long it took."""
    began = time.monotonic()
    cmd = [sys.executable, "-m", "invoke", "test", "native_vs_rest_performance", "--results-dir", results_dir,
           *[a for p in params for a in ("--param", p)]]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=5400)
    print(proc.stdout[-6000:], flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return os.path.realpath(os.path.join(results_dir, "latest")), time.monotonic() - began


BUSY_LOOP = "import signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nwhile True: pass"


def busy(cores: int) -> list[subprocess.Popen]:
    """``cores`` processes that spin on a core each until terminated."""
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(cores)]


def headline_figures(session: str) -> dict:
    """The headline figures of a session, by (test, figure)."""
    with open(os.path.join(session, "report.json")) as f:
        tests = {t["test_id"].split("::")[-1]: t for t in json.load(f)["tests"]}
    found = {}
    for test, name in HEADLINES:
        fig = figures(tests[test]["data"]).get(name) if test in tests else None
        if fig is not None:
            found[(test, name)] = fig
    return found


def judge(figs: list) -> dict:
    """How far apart a figure's runs are and whether they hold still."""
    medians = [f.value for f in figs]
    common = statistics.median(medians)
    if common:
        spread = (max(medians) - min(medians)) / abs(common) * 100
    else:
        spread = 0.0 if max(medians) == min(medians) else math.inf
    overlap = max(f.low for f in figs) <= min(f.high for f in figs)
    near = [abs(m - common) <= TOLERANCE * abs(common) or f.stable is False for m, f in zip(medians, figs, strict=True)]
    return {"common": common, "spread_pct": spread, "overlap": overlap, "near": all(near),
            "holds": overlap and all(near)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--results-dir", default=os.path.join(REPO, "results", "stability"))
    parser.add_argument("--param", action="append", default=[], help="passed on to invoke test")
    parser.add_argument("--busy-cores", type=int, default=0, help="processes keeping a core busy each meanwhile")
    args = parser.parse_args()
    if args.runs < 2 or not 0 <= args.busy_cores <= (os.cpu_count() or 1):
        parser.error(f"--runs must be 2 or more and --busy-cores 0 to {os.cpu_count()}")
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(10):
            loads.append(os.getloadavg()[0])

    threading.Thread(target=sample, daemon=True).start()
    sessions, took = [], []
    spinners = busy(args.busy_cores)
    try:
        for i in range(args.runs):
            print(f"[stability] run {i + 1} of {args.runs}", flush=True)
            session, seconds = run_once(args.results_dir, args.param)
            sessions.append(session)
            took.append(seconds)
    finally:
        for spinner in spinners:
            spinner.terminate()
        for spinner in spinners:
            spinner.wait(timeout=30)
    done.set()
    found = [headline_figures(s) for s in sessions]
    rows = []
    for key in HEADLINES:
        figs = [f[key] for f in found if key in f]
        if len(figs) < len(found):
            rows.append([key[1], "missing in some run"])
            continue
        verdict = judge(figs)
        rows.append([f"{key[0].split('.')[-1]}: {key[1]}",
                     *[f"{f.value:,.0f} [{f.low:,.0f}, {f.high:,.0f}]" + ("" if f.stable is not False else " unstable")
                       for f in figs],
                     f"{verdict['spread_pct']:.1f}%", "yes" if verdict["overlap"] else "no",
                     "yes" if verdict["near"] else "no", "holds" if verdict["holds"] else "MOVES"])
    print(tabulate(rows, headers=["figure (records/s)", *[f"run {i + 1}" for i in range(len(found))],
                                  "max-min / median", "intervals overlap", "each ±10% or unstable", ""],
                   disable_numparse=True))
    print(f"\nsessions: {', '.join(os.path.basename(s) for s in sessions)}; {args.busy_cores} busy "
          "cores beside them; each took "
          f"{', '.join(f'{t / 60:.1f}' for t in took)} min; 1-minute load average "
          f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f} (median {statistics.median(loads or [0]):.1f})")


if __name__ == "__main__":
    main()
