"""kafkatest on ducktape 0.12 and on ducttape, over the same workers:
``python3 benchmarks/kafkatest_vs_ducktape.py [--runs 2]``.

Runs every PLAINTEXT case of kafkatest 4.1.1's ``sanity_checks/test_verifiable_producer.py``
(the kafka-dev build, unmodified) once with ducktape, the version kafkatest pins (its own
virtualenv ``benchmarks/.venv-ducktape012`` with kafkatest's requirements, made by env.py; the
kafka-dev ``tests/`` folder on its PYTHONPATH), and once with ``invoke test --cluster vagrant``,
each case in a session of its own, as a user runs them, on the running workers of the Vagrant
cluster of this repository (ducktape's JSON cluster file is written from ducttape's cluster
file of the same workers). Without running workers it brings the cluster up with ``invoke
cluster.up`` (Vagrantfile.local: num_workers = 5, ram_megabytes = 1536) and destroys it at the
end. Prints per case the test's wall time from each framework's report.json, the session's
wall time, the test's teardown and the size of its results folder, and each status; with
several runs median (min-max), the two frameworks' order alternating from run to run. Results
stay in results/kafkatest-vs-ducktape/.

How each figure is measured, the same way for both frameworks:

- test: the test's time in its framework's report.json, from the start of the test to the end
  of its teardown (ducktape: ``run_time_seconds``; ducttape: ``duration``).
- session: the wall time of the command (``ducktape ...``, ``invoke test ...``), measured here.
- teardown: from the end of the test's body (its setup and test method) to the end of its
  teardown (the test's own teardown method, stopping its services, collecting their logs,
  cleaning the nodes). ducktape 0.12 records no such figure: it is its report.json's
  ``stop_time`` minus the time of the "Tearing down..." line in the test's ``test_log.info``
  (ducktape logs it as the body ends, before the test's teardown method, and sets
  ``stop_time`` once the nodes are freed). ducttape: ``teardown_seconds`` of its report.json
  (from when the test method returned or raised to when the test's process sends its result,
  after stopping the services, collecting their logs and ending what they left).
- result: the bytes of every regular file in the test's own results folder once the session
  ended (ducktape: ``relative_results_dir`` of its report.json, which also holds that test's
  own report.json and report.txt; ducttape: ``folder``, whose reports are the session's, and
  which holds the compat layer's ``scratch/`` that ducktape keeps in a temporary folder), by
  the same function (``ducttape.runner.files.folder_bytes``).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import glob
import json
import os
import signal
import subprocess
import sys
import time

from tabulate import tabulate

import env
from overhead import fmt

sys.path.insert(0, env.REPO)
from ducttape.errors import ClusterError, ConfigError, DucttapeError
from ducttape.runner.files import folder_bytes
from ducttape.vagrant.cluster_file import load_vagrant_nodes

VENV = os.path.join(env.HERE, ".venv-ducktape012")
KAFKA_DEV = os.path.join(env.REPO, "build", "kafka-dev")
KAFKATEST = os.path.join(KAFKA_DEV, "tests")
MODULE = os.path.join(KAFKATEST, "kafkatest", "sanity_checks", "test_verifiable_producer.py")
TEST = "TestVerifiableProducer.test_simple_run"
WORKERS = 5
QUORUMS = ("ISOLATED_KRAFT", "COMBINED_KRAFT")
# test_simple_run's PLAINTEXT cases, in its @matrix order (SSL and SASL_SSL are left out)
CASES = [
    *({"producer_version": "dev", "acks": acks, "enable_idempotence": False, "metadata_quorum": q}
      for acks in ("0", "1", "-1") for q in QUORUMS),
    *({"producer_version": "dev", "acks": "-1", "enable_idempotence": True, "metadata_quorum": q}
      for q in QUORUMS),
    *({"producer_version": "dev", "security_protocol": "PLAINTEXT", "metadata_quorum": q}
      for q in QUORUMS),
]
TEST_TIMEOUT = 600  # per test, both frameworks' own limit is longer
SESSION_TIMEOUT = 1200
DUCKTAPE = "ducktape"
DUCTTAPE = "ducttape"
OUT = os.path.join(env.REPO, "results", "kafkatest-vs-ducktape")
TEARING_DOWN = ": Tearing down..."  # the end of ducktape's runner_client line as the body ends
KINDS = {"test": ("test (s)", 1), "session": ("session (s)", 1), "teardown": ("teardown (s)", 2),
         "kb": ("result (KB)", 0)}
"""What the table shows per framework: (header, decimals)."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def kafkatest_requirements() -> tuple[str, ...]:
    """install_requires of kafkatest's setup.py, its ducktape pin first."""
    setup = os.path.join(KAFKATEST, "setup.py")
    if not os.path.isfile(os.path.join(KAFKATEST, "kafkatest", "__init__.py")) or not os.path.isfile(MODULE):
        raise ConfigError(f"no kafkatest in {os.path.relpath(KAFKATEST, env.REPO)}: run "
                          "`invoke build --only kafka-dev` first")
    with open(setup) as f:
        tree = ast.parse(f.read(), setup)
    found = [kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
             for kw in node.keywords if kw.arg == "install_requires"]
    requirements = ast.literal_eval(found[0]) if found else []
    pins = [r for r in requirements if r.replace(" ", "").startswith("ducktape==")]
    if not pins:
        raise ConfigError(f"{setup}: install_requires pins no ducktape version")
    return tuple(pins + [r for r in requirements if r not in pins])


def running_workers() -> list[dict]:
    try:
        return load_vagrant_nodes(env.REPO, refresh=True)
    except ClusterError:
        return []


def cluster_up() -> list[dict]:
    """Bring the Vagrant cluster up as Vagrantfile.local says; its running workers."""
    local = os.path.join(env.REPO, "Vagrantfile.local")
    if not os.path.isfile(local):
        raise ConfigError(f"no workers running and no {local}: copy Vagrantfile.local.example, "
                          f"set num_workers = {WORKERS} and ram_megabytes = 1536")
    print("[setup] invoke cluster.up", flush=True)
    invoke("cluster.up", timeout=1800)
    return running_workers()


def invoke(*args: str, timeout: float) -> None:
    proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=env.REPO, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"invoke {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def write_ducktape_cluster(nodes: list[dict], path: str) -> None:
    """ducktape's JSON cluster file for ducttape's nodes: ``host`` is the worker's name (what
    ducktape's ``account.hostname`` says), ``hostname`` and ``port`` where SSH reaches it."""
    doc = {"nodes": [{"externally_routable_ip": n["address"],
                      "ssh_config": {"host": n["name"], "hostname": n["hostname"], "port": n["port"],
                                     "user": n["user"], "identityfile": n.get("key_file"),
                                     "password": None}} for n in nodes]}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


def label(case: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items() if k != "producer_version")


def ducktape_teardown(folder: str, stop_time: float) -> float:
    """ducktape's teardown of the test whose results are in ``folder``: from its "Tearing
    down..." line in test_log.info (local time, milliseconds) to ``stop_time``."""
    path = os.path.join(folder, "test_log.info")
    with open(path, errors="replace") as f:
        for line in f:
            if " - runner_client - " in line and line.rstrip().endswith(TEARING_DOWN):
                # [INFO  - 2026-12-01 22:01:02,123 - runner_client - log - lineno:459]: RunnerClient: ...
                stamp = line.split(" - ")[1]
                began = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
                return stop_time - began
    raise RuntimeError(f"{path}: no \"Tearing down...\" line of ducktape's runner")


def session(framework: str, case: dict, results: str, ducktape_bin: str, cluster_file: str,
            home: str) -> dict:
    """Run one case in a session of its own: its figures (``KINDS``: session wall s, test wall s
    from the report, teardown s, result KB) and its status."""
    os.makedirs(results, exist_ok=True)
    if framework == DUCKTAPE:
        cmd = [ducktape_bin, f"{MODULE}::{TEST}@{json.dumps(case)}", "--cluster",
               "ducktape.cluster.json.JsonCluster", "--cluster-file", cluster_file,
               "--results-root", results]
        cwd, extra = home, {"HOME": home, "PYTHONPATH": KAFKATEST}  # ducktape keeps state in ~
    else:
        bracket = ",".join(f"{k}={v}" for k, v in case.items())
        cmd = [sys.executable, "-m", "invoke", "test", f"{MODULE}::{TEST}[{bracket}]", "--cluster",
               "vagrant", "--timeout", str(TEST_TIMEOUT), "--results-dir", results]
        cwd, extra = env.REPO, {}
    log = open(os.path.join(results, "console.log"), "w")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **extra}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(SESSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(60)
        raise RuntimeError(f"{framework} session of {label(case)} took over {SESSION_TIMEOUT} s: "
                           f"killed (its processes on the workers may still run); see {log.name}") from None
    finally:
        log.close()
    wall = time.perf_counter() - start
    reports = [p for p in glob.glob(os.path.join(results, "*", "report.json"))  # not ``latest``
               if not os.path.islink(os.path.dirname(p))]
    if len(reports) != 1:
        raise RuntimeError(f"{framework} session of {label(case)} exited {proc.returncode} with "
                           f"{len(reports)} report.json files; see {log.name}")
    with open(reports[0]) as f:
        doc = json.load(f)
    tests = doc["results"] if framework == DUCKTAPE else doc["tests"]
    if len(tests) != 1:
        raise RuntimeError(f"{reports[0]}: {len(tests)} tests, expected the one case {label(case)}")
    test = tests[0]
    session_dir = os.path.dirname(reports[0])
    if framework == DUCKTAPE:
        folder = os.path.join(session_dir, test["relative_results_dir"])
        figures = {"test": test["run_time_seconds"], "teardown": ducktape_teardown(folder, test["stop_time"]),
                   "status": test["test_status"]}
    else:
        folder = os.path.join(session_dir, test["folder"])
        figures = {"test": test["duration"], "teardown": test["teardown_seconds"], "status": test["status"]}
    return {**figures, "session": wall, "kb": folder_bytes(folder) / 1000}


def table(frameworks: list[str], figures: dict) -> str:
    rows = []
    for i, case in enumerate(CASES):
        row = [label(case)]
        for kind, (_, digits) in KINDS.items():
            row += [fmt(figures[(f, i)][kind], digits) for f in frameworks]
        row += ["/".join(figures[(f, i)]["status"]) for f in frameworks]
        rows.append(row)
    for name, combine in (("total", sum), ("mean per case", lambda xs: sum(xs) / len(xs))):
        row = [name]
        for kind, (_, digits) in KINDS.items():
            row += [fmt([combine(run) for run in zip(*(figures[(f, i)][kind] for i in range(len(CASES))),
                                                     strict=True)], digits) for f in frameworks]
        rows.append(row + ["" for _ in frameworks])
    headers = ["case"] + [f"{f}: {header}" for header, _ in KINDS.values() for f in frameworks] + \
              [f"{f}: status" for f in frameworks]
    return tabulate(rows, headers=headers, tablefmt="github")


def versions(ducktape_python: str) -> str:
    ducktape = subprocess.run([ducktape_python, "-c", "import ducktape; print(ducktape.__version__)"],
                              capture_output=True, text=True, timeout=60).stdout.strip()
    head = subprocess.run(["git", "-C", env.REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, timeout=60).stdout.strip()
    with open(os.path.join(env.REPO, "build", "manifest.json")) as f:
        kafka_dev = json.load(f)["projects"]["kafka-dev"]
    return (f"ducktape {ducktape} (Python {sys.version.split()[0]}), ducttape {head}; kafka-dev "
            f"{kafka_dev['ref']} ({kafka_dev['git_sha'][:12]})")


def main() -> int:
    parser = OneLineParser(prog="kafkatest_vs_ducktape.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="sessions per case and framework (default 1)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs {args.runs}: at least 1")
    try:
        requirements = kafkatest_requirements()
        nodes = running_workers()
        brought_up = not nodes
        if brought_up:
            nodes = cluster_up()
        try:
            return measure(args.runs, requirements, nodes)
        finally:
            if brought_up:
                print("[teardown] invoke cluster.destroy", flush=True)
                invoke("cluster.destroy", timeout=600)
    except DucttapeError as exc:
        print(f"kafkatest_vs_ducktape.py: {exc}", file=sys.stderr)
        return exc.exit_code


def measure(runs: int, requirements: tuple[str, ...], nodes: list[dict]) -> int:
    if len(nodes) < WORKERS:
        raise ConfigError(f"{len(nodes)} workers run in the Vagrant cluster; the benchmark needs "
                          f"{WORKERS}: set num_workers = {WORKERS} in Vagrantfile.local and run "
                          "`invoke cluster.destroy` and `invoke cluster.up`")
    ducktape_python = env.ducktape_python(VENV, requirements)
    ducktape_bin = os.path.join(os.path.dirname(ducktape_python), "ducktape")
    out = os.path.join(OUT, time.strftime("%Y-%m-%d--%H%M%S"))
    home = os.path.join(out, "home")
    os.makedirs(home)
    cluster_file = os.path.join(out, "cluster.ducktape.json")
    write_ducktape_cluster(nodes, cluster_file)
    print(f"{versions(ducktape_python)}; {len(nodes)} workers "
          f"({', '.join(n['name'] for n in nodes)}); {len(CASES)} cases of "
          f"{os.path.relpath(MODULE, KAFKATEST)}::{TEST}, each in its own session; results in "
          f"{os.path.relpath(out, env.REPO)}", flush=True)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    figures: dict[tuple[str, int], dict[str, list]] = {}
    frameworks = [DUCKTAPE, DUCTTAPE]
    for run in range(1, runs + 1):
        for framework in frameworks if run % 2 else frameworks[::-1]:
            for i, case in enumerate(CASES):
                results = os.path.join(out, f"run{run}", framework, f"case{i + 1}")
                got = session(framework, case, results, ducktape_bin, cluster_file, home)
                entry = figures.setdefault((framework, i), {kind: [] for kind in (*KINDS, "status")})
                for kind, values in entry.items():
                    values.append(got[kind])
                print(f"[run {run}/{runs}] {framework}, {label(case)}: {got['status']}, test {got['test']:.1f} s, "
                      f"session {got['session']:.1f} s, teardown {got['teardown']:.2f} s, result "
                      f"{got['kb']:.0f} KB (load {os.getloadavg()[0]:.2f})", flush=True)
        print(f"\n{started}; {os.cpu_count()} CPUs; {run} run(s); load average (1, 5, 15 min) "
              f"{' '.join(f'{x:.2f}' for x in load_before)} before, "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} now")
        print(table(frameworks, figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
