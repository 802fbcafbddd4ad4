"""Framework overhead, ducttape side by side with ducktape 0.17.0: ``python3 benchmarks/run.py``.

Sets up what it needs (ducktape's virtualenv, a login user without start-up files, a private
sshd on 127.0.0.1 with a 3-node cluster on it), runs every benchmark ``--runs`` times for both
frameworks and the floors, interleaved, and prints median (min-max) of each figure with the
ratios and the targets. Runs as root (it adds and removes the bench user). Benchmarks:

A  50 trivial tests, serial: wall time per test, (T(50 tests) - T(1 test)) / 49, on a localhost
   and a JSON cluster; collect-only of the 50; ducttape alone: per test in a session of 500.
B  200 sequential remote commands on one node: ``true``, and ``echo hi`` with its output read.
C  a service on 3 nodes: start a background process on each, check it is alive, stop: per cycle.
D  a 50 MiB file copied from a node.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tabulate import tabulate

import env
import scenarios
from floors import ControlMaster, openssh_floor, scp_floor

LONG_SESSION = 500
COMMANDS = 200
CYCLES = 10
COPY_MIB = 50
RUN_TIMEOUT = 900
BENCHMARKS = "ABCD"

TARGETS = {
    # metric: (ducttape's absolute target, best direction, max ratio to ducktape, max ratio to floor)
    "A per test, localhost (ms)": (30, "low", 0.2, None),
    "A collect-only of 50 (s)": (0.5, "low", None, None),
    "B `true` (ms)": (10, "low", None, 2.0),
    "B `echo hi` (ms)": (10, "low", None, 2.0),
    "C start+stop cycle, 3 nodes (s)": (0.5, "low", None, None),
    "D copy_from 50 MiB (MiB/s)": (72, "high", None, 1 / 0.9),
}


class Bench:
    """One session of measurements: the environment and every sample taken."""

    def __init__(self, work: str, user: env.BenchUser, sshd: env.Sshd, ducktape_python: str):
        self.work, self.user, self.sshd = work, user, sshd
        self.dt_python = ducktape_python
        self.dt_bin = os.path.join(os.path.dirname(ducktape_python), "ducktape")
        self.cluster_ducttape, self.cluster_ducktape = sshd.write_cluster_files(work)
        self.trivial = {n: scenarios.write(os.path.join(work, f"trivial-{n}"), n)
                        for n in (1, scenarios.NUM_TESTS, LONG_SESSION)}
        self.dt_env = {"HOME": work}  # ducktape keeps state in ./.ducktape and ~/.ducktape
        self.samples: dict[str, dict[str, list[float]]] = {}
        self.collect_cmd = self._ducttape_collect_cmd()
        self.master = ControlMaster(sshd.port, user.name, sshd.ssh_options(), work)
        self.data = os.path.join(user.home, "data", "big.bin")

    def add(self, metric: str, column: str, value: float) -> None:
        self.samples.setdefault(metric, {}).setdefault(column, []).append(value)

    # -- running things ---------------------------------------------------------------------

    def timed(self, cmd: list[str], expect: str, cwd: str, env_extra: dict | None = None) -> float:
        """Wall time of ``cmd``; its output must match the regex ``expect``."""
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                              env={**os.environ, **(env_extra or {})})
        seconds = time.perf_counter() - start
        if proc.returncode != 0 or not re.search(expect, proc.stdout):
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode} without /{expect}/:\n"
                               f"{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
        return seconds

    def worker(self, framework: str, *args: str) -> dict:
        python = sys.executable if framework == "ducttape" else self.dt_python
        cmd = [python, os.path.join(env.HERE, f"work_{framework}.py"), *args]
        proc = subprocess.run(cmd, cwd=env.REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def _ducttape_collect_cmd(self) -> list[str]:
        """``invoke test FILE --collect-only`` if the runner has it, else discovery in ``python -c``."""
        help_text = subprocess.run([sys.executable, "-m", "invoke", "--help", "test"], cwd=env.REPO,
                                   capture_output=True, text=True, timeout=120).stdout
        if "--collect-only" in help_text:
            return [sys.executable, "-m", "invoke", "test", self.trivial[scenarios.NUM_TESTS][0],
                    "--collect-only"]
        return [sys.executable, "-c", "import sys; from ducttape.runner.discovery import discover; "
                "print(len(discover(sys.argv[1])), 'tests')", self.trivial[scenarios.NUM_TESTS][0]]

    # -- the benchmarks -----------------------------------------------------------------------

    def bench_a(self) -> None:
        n = scenarios.NUM_TESTS
        collect_tt = self.timed(self.collect_cmd, rf"\b{n}\b", env.REPO)
        collect_dt = self.timed([self.dt_bin, "--collect-only", self.trivial[n][1]],
                                rf"Collected {n} tests", self.work, self.dt_env)
        self.add("A collect-only of 50 (s)", "ducttape", collect_tt)
        self.add("A collect-only of 50 (s)", "ducktape", collect_dt)
        for label, tt_cluster, dt_cluster in (
                ("localhost", "localhost", ["--cluster", "ducktape.cluster.localhost.LocalhostCluster"]),
                ("JSON cluster", f"json:{self.cluster_ducttape}",
                 ["--cluster", "ducktape.cluster.json.JsonCluster", "--cluster-file", self.cluster_ducktape])):
            for framework in ("ducttape", "ducktape"):
                cluster = tt_cluster if framework == "ducttape" else dt_cluster
                one, many = (self.session(framework, k, cluster) for k in (1, n))
                # The difference cancels start-up, discovery and the session's fixed costs.
                self.add(f"A per test, {label} (ms)", framework, (many - one) / (n - 1) * 1000)
                self.add(f"A whole run of 50, {label} (s)", framework, many)
                if framework == "ducttape" and label == "localhost":
                    # Costs that grow with the session show in a longer one (ducttape only: the
                    # same session takes ducktape over a minute).
                    long = self.session(framework, LONG_SESSION, cluster)
                    self.add(f"A per test in a session of {LONG_SESSION}, localhost (ms)", framework,
                             (long - one) / (LONG_SESSION - 1) * 1000)

    def session(self, framework: str, n: int, cluster: str | list[str]) -> float:
        """Wall time of a whole session of ``n`` trivial tests, start-up included."""
        results = os.path.join(self.work, "results")
        shutil.rmtree(results, ignore_errors=True)
        try:
            if framework == "ducttape":
                return self.timed([sys.executable, "-m", "invoke", "test", self.trivial[n][0],
                                   "--cluster", cluster, "--results-dir", results],
                                  rf"\b{n} passed, 0 failed", env.REPO)
            return self.timed([self.dt_bin, self.trivial[n][1], "--results-root", results, *cluster],
                              rf"passed:\s+{n}\b", self.work, self.dt_env)
        finally:
            shutil.rmtree(results, ignore_errors=True)

    def bench_b(self) -> None:
        for framework, cluster in (("ducttape", self.cluster_ducttape), ("ducktape", self.cluster_ducktape)):
            got = self.worker(framework, "remote", cluster, str(COMMANDS))
            self._add_b(framework, got)
        floor = subprocess.run(
            [sys.executable, os.path.join(env.HERE, "floors.py"), "paramiko", "127.0.0.1",
             str(self.sshd.port), self.user.name, self.sshd.key_file, str(COMMANDS)],
            capture_output=True, text=True, timeout=RUN_TIMEOUT, check=True)
        self._add_b("floor: paramiko + TCP_NODELAY", json.loads(floor.stdout.strip().splitlines()[-1]))
        self._add_b("floor: OpenSSH ControlMaster", openssh_floor(self.master, COMMANDS))

    def _add_b(self, column: str, got: dict) -> None:
        self.add("B `true` (ms)", column, statistics.mean(got["true_s"]) * 1000)
        self.add("B `echo hi` (ms)", column, statistics.mean(got["echo_s"]) * 1000)
        if "first_s" in got:
            self.add("B first command, connecting (ms)", column, got["first_s"] * 1000)

    def bench_c(self) -> None:
        runs = {"ducttape": self.worker("ducttape", "service", f"json:{self.cluster_ducttape}", str(CYCLES)),
                "ducktape": self.worker("ducktape", "service", self.cluster_ducktape, str(CYCLES),
                                        os.path.join(self.user.home, "scratch-ducktape"))}
        for framework, got in runs.items():
            self.add("C start+stop cycle, 3 nodes (s)", framework, statistics.mean(got["cycle_s"]))
            self.add("C remote commands per cycle", framework, statistics.median(got["execs"]))
            self.add("C SFTP requests per cycle", framework, statistics.median(got["sftp"]))
        local = self.worker("ducttape", "service", "localhost:3", str(CYCLES))
        self.add("C same cycle on ducttape's localhost cluster (s)", "ducttape",
                 statistics.mean(local["cycle_s"]))

    def make_data(self) -> None:
        os.makedirs(os.path.dirname(self.data), exist_ok=True)
        with open(self.data, "wb") as f:
            for _ in range(COPY_MIB):
                f.write(os.urandom(1 << 20))
        with open(self.data + ".small", "wb") as f:
            f.write(b"x\n")
        self.user.chown_tree(os.path.dirname(self.data))

    def bench_d(self) -> None:
        size = COPY_MIB << 20
        for column in ("ducttape", "ducktape", "floor: scp"):
            local = tempfile.mkdtemp(dir=self.work, prefix="copy-")
            try:
                if column == "floor: scp":
                    got = scp_floor(self.master, self.data, local)
                else:
                    cluster = self.cluster_ducttape if column == "ducttape" else self.cluster_ducktape
                    got = self.worker(column, "copy", cluster, self.data, local)
            finally:
                shutil.rmtree(local, ignore_errors=True)
            if got["bytes"] != size:
                raise RuntimeError(f"{column} copied {got['bytes']} bytes, not {size}")
            self.add("D copy_from 50 MiB (MiB/s)", column, size / (1 << 20) / got["seconds"])


# -- the table ----------------------------------------------------------------------------------

def fmt(values: list[float] | None) -> str:
    if not values:
        return ""
    med = statistics.median(values)
    digits = 0 if med >= 100 or all(v == int(v) for v in values) else 1 if med >= 10 \
        else 2 if med >= 1 else 3
    spread = f" ({min(values):.{digits}f}–{max(values):.{digits}f})" if len(values) > 1 else ""
    return f"{med:.{digits}f}{spread}"


def table(samples: dict[str, dict[str, list[float]]]) -> str:
    rows = []
    for metric, columns in samples.items():
        tt, dt = columns.get("ducttape"), columns.get("ducktape")
        floors = {k.split(": ", 1)[1]: v for k, v in columns.items() if k.startswith("floor")}
        med = {k: statistics.median(v) for k, v in columns.items()}
        floor_name = next(iter(floors), None)
        ratio_dt = f"{med['ducttape'] / med['ducktape']:.2f}×" if tt and dt and med["ducktape"] else ""
        ratio_floor = (f"{med['ducttape'] / statistics.median(floors[floor_name]):.2f}×"
                       if tt and floor_name else "")
        target, verdict = "", ""
        if metric in TARGETS and tt:
            absolute, direction, max_dt, max_floor = TARGETS[metric]
            checks = [med["ducttape"] <= absolute if direction == "low" else med["ducttape"] >= absolute]
            target = f"{'≤' if direction == 'low' else '≥'} {absolute:g}"
            if max_dt and dt:
                checks.append(med["ducttape"] <= max_dt * med["ducktape"])
                target += f", ≤ {max_dt:g}× ducktape"
            if max_floor and floor_name:
                f_med = statistics.median(floors[floor_name])
                if direction == "low":
                    checks.append(med["ducttape"] <= max_floor * f_med)
                    target += f", ≤ {max_floor:g}× floor"
                else:
                    checks.append(med["ducttape"] >= f_med / max_floor)
                    target += f", ≥ {1 / max_floor:g}× floor"
            verdict = "met" if all(checks) else "MISSED"
        floor_text = "; ".join(f"{fmt(v)} {name}" for name, v in floors.items())
        rows.append((metric, fmt(tt), fmt(dt), floor_text, ratio_dt, ratio_floor, target, verdict))
    return tabulate(rows, headers=("figure: median (min–max)", "ducttape", "ducktape 0.17.0", "floor",
                                   "ducttape/ducktape", "ducttape/floor", "target", ""),
                    tablefmt="github")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of every benchmark (default 3)")
    parser.add_argument("--only", default=BENCHMARKS, help="which benchmarks, e.g. AB (default ABCD)")
    args = parser.parse_args()
    only = args.only.upper()
    if os.geteuid() != 0:
        print("run.py: must run as root (it adds a login user for the benchmarks)", file=sys.stderr)
        return 2
    if args.runs < 1 or not only or set(only) - set(BENCHMARKS):
        print("run.py: --runs is at least 1, --only is made of the letters A B C D", file=sys.stderr)
        return 2
    python = env.ducktape_python()
    work = tempfile.mkdtemp(prefix="ducttape-bench-")
    os.chmod(work, 0o755)  # the bench user reads its keys and home in here
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    try:
        with env.BenchUser(os.path.join(work, "home")) as user, env.Sshd(work, user) as sshd:
            bench = Bench(work, user, sshd, python)
            if "D" in only:
                bench.make_data()
            try:
                for run in range(1, args.runs + 1):
                    for letter in only:
                        print(f"[run {run}/{args.runs}] benchmark {letter} "
                              f"(load {os.getloadavg()[0]:.2f})", flush=True)
                        getattr(bench, f"bench_{letter.lower()}")()
            finally:
                bench.master.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    print(f"{started}; {os.cpu_count()} CPUs; {args.runs} runs; load average (1, 5, 15 min) "
          f"{' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in load_after)} after")
    print(f"ducttape collect-only measured with: {' '.join(bench.collect_cmd[1:3])} ...")
    print(table(bench.samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
