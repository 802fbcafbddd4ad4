"""Figures' better direction, the change points of trends (what `invoke history` prints and the
index marks) on synthetic series, and the whole chain (compare, history, index) on real sessions
of sample_latency with a deliberate slowdown."""

from __future__ import annotations

import json
import os
import random

import pytest

from support import run_cli
from test_runner_cli import session

from ducttape.runner.compare import compare
from ducttape.runner.figures import figures
from ducttape.runner.history import Point, Series, build_label, used_label
from ducttape.runner.trends import trend_changes


def series(values, unit="records/s") -> Series:
    figure = figures({"f": {"value": 1, "unit": unit}})["f"]
    return Series("t::T.test", "f", unit, figure.better,
                  [Point(f"s{i:02d}", i, f"build-{i}", {}, v, [v]) for i, v in enumerate(values)])


def noisy(rng, level, noise, n):
    return [level * (1 + rng.uniform(-noise, noise)) for _ in range(n)]


def test_better_direction_from_unit_or_declared():
    data = {"tput": {"value": 5, "unit": "records/s"}, "mb": {"value": 5, "unit": "MB/s"},
            "lat": {"value": 5, "unit": "ms"}, "dur": {"value": 5, "unit": "s"},
            "ratio": {"value": 5, "unit": "x"}, "errors": {"value": 5, "unit": "count", "better": "lower"},
            "reps": {"values": [3, 1, 2], "unit": "ms"}, "plain": 7}
    got = {name: (f.better, f.value, f.values) for name, f in figures(data).items()}
    assert got == {"tput": ("higher", 5, [5]), "mb": ("higher", 5, [5]), "lat": ("lower", 5, [5]),
                   "dur": ("lower", 5, [5]), "ratio": ("", 5, [5]), "errors": ("lower", 5, [5]),
                   "reps": ("lower", 2, [3, 1, 2]), "plain": ("", 7, [7])}


def test_a_10pct_step_in_2pct_noise_is_found_at_its_session():
    found = []
    for seed in range(20):
        rng = random.Random(seed)
        s = series(noisy(rng, 100, 0.02, 10) + noisy(rng, 110, 0.02, 10))
        found.append([c.index for c in trend_changes(s)])
    assert sum(f == [10] for f in found) >= 18, found
    assert all(len(f) <= 1 and all(abs(i - 10) <= 2 for i in f) for f in found), found


def test_noise_without_a_step_has_no_change_point():
    for seed in range(20):
        rng = random.Random(seed)
        assert trend_changes(series(noisy(rng, 100, 0.05, 20))) == [], seed


def test_a_step_up_is_better_for_a_throughput_and_worse_for_a_latency():
    rng = random.Random(7)
    values = noisy(rng, 100, 0.02, 8) + noisy(rng, 130, 0.02, 8)
    throughput, latency = series(values, "records/s"), series(values, "ms")
    [up], [slower] = trend_changes(throughput), trend_changes(latency)
    assert (up.index, up.verdict) == (8, "better") and (slower.index, slower.verdict) == (8, "worse")
    assert up.change_pct == pytest.approx(30, abs=3)
    text = slower.describe(latency)
    assert "s07 [build-7]" in text and "s08 [build-8]" in text and "(worse)" in text
    [down] = trend_changes(series(list(reversed(values)), "records/s"))
    assert down.verdict == "worse" and down.change_pct < 0


def test_build_label_names_versions_and_shas():
    manifest = {"kafka": {"version": "4.1.1", "git_sha": None},
                "bridge": {"version": None, "git_sha": "0123456789abcdef"},
                "app": {"version": "1.0", "source_hash": "feedfacecafe00"}}
    assert build_label(manifest) == "app 1.0@feedfaceca, bridge 0123456789, kafka 4.1.1"
    assert build_label(None) == ""


def fake_session(path, data, started):
    os.makedirs(path)
    doc = {"session_id": os.path.basename(path), "cluster": "localhost", "started": started,
           "finished": started + 1, "interrupted": False, "build_manifest": None,
           "tests": [{"test_id": "m::T.test", "module": "m", "cls": "T", "method": "test",
                      "status": "PASS", "data": data}]}
    with open(os.path.join(path, "report.json"), "w") as f:
        json.dump(doc, f)
    return str(path)


def test_compare_judges_repeats_and_leaves_single_runs_alone(tmp_path):
    rng = random.Random(3)

    def side(name, tput, lat, started):
        return fake_session(tmp_path / name, {
            "tput": {"values": noisy(rng, tput, 0.05, 6), "unit": "records/s"},
            "lat": {"values": noisy(rng, lat, 0.05, 6), "unit": "ms"},
            "single": {"value": lat, "unit": "ms"}}, started)

    base, same, moved = side("a", 1000, 10, 1), side("b", 1000, 10, 2), side("c", 1300, 13, 3)
    rows = {r.figure: r for r in compare(base, same)}
    assert not any(r.flagged for r in rows.values()), rows
    assert rows["single"].verdict == "single run, not judged"
    rows = {r.figure: r for r in compare(base, moved)}
    assert (rows["tput"].verdict, rows["tput"].flagged) == ("better", True)
    assert (rows["lat"].verdict, rows["lat"].flagged) == ("worse", True)
    assert rows["lat"].p_value < 0.05 and rows["lat"].change_pct == pytest.approx(30, abs=6)
    assert not rows["single"].flagged and rows["single"].verdict == "single run, not judged"
    # significant but below the minimum effect: not flagged
    rows = {r.figure: r for r in compare(base, moved, threshold=50)}
    assert not rows["lat"].flagged and rows["lat"].verdict.startswith("significant but within")


# -- real runs -----------------------------------------------------------------------------------

SAME, SLOWER = 8, 4
"""Sessions at the default delay, then with the slowdown: a comparison of groups needs 4 sessions
a side to reach 95%."""


@pytest.fixture(scope="module")
def latency_history(tmp_path_factory):
    """12 real sessions of sample_latency: 8 at delay_ms=1 (the default), then 4 at 1.5."""
    results = tmp_path_factory.mktemp("history") / "results"
    for i in range(SAME + SLOWER):
        slow = ["--param", "delay_ms=1.5"] if i >= SAME else []
        proc = run_cli("test", "sample_latency", "--results-dir", str(results), *slow)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return results, sorted(d for d in os.listdir(results) if d.startswith("20"))


@pytest.mark.slow
def test_sessions_of_the_same_build_compare_without_flags(latency_history):
    results, ids = latency_history
    proc = run_cli("compare", ",".join(ids[0:SAME:2]), ",".join(ids[1:SAME:2]), "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.load(open(results / ids[SAME - 1] / "comparison.json"))
    assert doc["basis"] == "sessions"
    rows = {r["figure"]: r for r in doc["rows"]}
    assert len(rows["latency_median"]["old_values"]) == 4 and len(rows["throughput"]["new_values"]) == 4
    assert rows["latency_median"]["p_value"] is not None  # judged, not skipped
    assert [r["figure"] for r in doc["rows"] if r["flagged"]] == [], proc.stdout


@pytest.mark.slow
def test_the_slowdown_is_flagged_worse_and_found_in_the_history(latency_history):
    results, ids = latency_history
    proc = run_cli("compare", ",".join(ids[:SAME]), ",".join(ids[SAME:]), "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["figure"]: r for r in json.load(open(results / ids[-1] / "comparison.json"))["rows"]}
    assert (rows["latency_median"]["verdict"], rows["latency_median"]["change_pct"] > 20) == ("worse", True)
    assert rows["latency_median"]["p_value"] < 0.01
    # the throughput follows the machine's load from session to session: never "better" here
    assert rows["throughput"]["verdict"] in ("worse", "no significant change"), rows["throughput"]

    proc = run_cli("history", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    latency = [line for line in proc.stdout.splitlines() if "latency_median (ms)" in line]
    assert len(latency) == 1, proc.stdout
    # the builds the sessions' tests used: sample_latency uses none, whatever the checkout has built
    report = json.load(open(results / ids[0] / "report.json"))
    [test] = report["tests"]
    assert test["builds"] == []
    build = used_label(report["build_manifest"], test["builds"], test.get("versions")) or "no build"
    assert build == "no build"
    assert (f"(worse) between {ids[SAME - 1]} [{build}] and {ids[SAME]} [{build}; delay_ms=1.5]"
            in latency[0]), proc.stdout
    index = json.load(open(results / "index.json"))
    trend = next(t for t in index["trends"] if t["figure"] == "latency_median")
    assert trend["points"] == SAME + SLOWER
    assert [(cp["first_after"]["session_id"], cp["verdict"]) for cp in trend["change_points"]] == [(ids[SAME], "worse")]
    for t in index["trends"]:  # latencies only: the throughput follows the machine's load
        if t["unit"] == "ms":
            assert all(cp["verdict"] == "worse" for cp in t["change_points"]), t
    assert session(results).endswith(ids[-1])


# -- the index's change points: the test of `invoke compare` ---------------------------------------

def repeated(levels, rng, noise=0.02, repeats=6, unit="ms") -> Series:
    """A series of one session per level, each with its repeats."""
    s = series([1.0] * len(levels), unit)
    for p, level in zip(s.points, levels, strict=True):
        p.values = noisy(rng, level, noise, repeats)
        p.value = sorted(p.values)[repeats // 2]
    return s


def test_trend_changes_find_a_30pct_step_in_five_sessions_and_nothing_in_noise():
    rng = random.Random(5)
    [step] = trend_changes(repeated([200, 200, 260, 260, 260], rng))
    assert (step.index, step.verdict) == (2, "worse") and step.change_pct == pytest.approx(30, abs=3)
    assert step.p_value < 0.05 and step.to_dict()["first_after"]["session_id"] == "s02"
    for seed in range(20):
        assert trend_changes(repeated([5000] * 5, random.Random(seed), unit="records/s")) == [], seed
    # one odd session is not a change; two steps are two changes
    assert trend_changes(repeated([100, 100, 100, 140, 100, 100], rng)) == []
    assert [c.index for c in trend_changes(repeated([100, 100, 130, 130, 100, 100], rng))] == [2, 4]


def test_trend_changes_of_single_values_need_six_sessions_a_side():
    assert trend_changes(series([10, 10.1, 9.9, 10, 10.05, 13, 13.1, 12.9, 13, 13.05], "ms")) == []
    [step] = trend_changes(series([10, 10.1, 9.9, 10, 10.05, 9.95, 13, 13.1, 12.9, 13, 13.05, 12.95], "ms"))
    assert (step.index, step.verdict) == (6, "worse")
