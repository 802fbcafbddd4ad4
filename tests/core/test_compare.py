"""Comparing two sessions: figures, flags, the plot, and the report that shows them."""

from __future__ import annotations

import json
import os
import struct

import pytest

from support import run_cli
from test_report_html import parse, render
from test_runner_cli import assert_one_line_error, session

from ducttape.runner.compare import compare
from ducttape.runner.figures import figures


def test_figures_flatten_numbers_and_units():
    data = {"rate": {"value": 12.5, "unit": "MB/s"}, "workers": [{"records": 10}, {"records": 12}],
            "ok": True, "name": "x", "latency": {"p99": 3}}
    assert {k: (f.value, f.unit) for k, f in figures(data).items()} == {
        "rate": (12.5, "MB/s"), "workers.0.records": (10.0, ""), "workers.1.records": (12.0, ""),
        "latency.p99": (3.0, "")}
    assert figures(7)[""].value == 7.0 and figures(None) == {}


def fake_session(path, tests):
    os.makedirs(path)
    doc = {"session_id": os.path.basename(path), "cluster": "localhost", "started": 1.0, "finished": 2.0,
           "interrupted": False, "summary": {}, "build_manifest": None,
           "tests": [{"test_id": t, "module": "m", "cls": "C", "method": "test", "status": "PASS",
                      "data": d} for t, d in tests.items()]}
    with open(os.path.join(path, "report.json"), "w") as f:
        json.dump(doc, f)
    return str(path)


def test_single_runs_are_shown_not_judged(tmp_path):
    old = fake_session(tmp_path / "old", {"a": {"rps": 100, "lat": {"value": 10, "unit": "ms"}, "gone": 1}})
    new = fake_session(tmp_path / "new", {"a": {"rps": 105, "lat": {"value": 14, "unit": "ms"}, "added": 2}})
    rows = {r.figure: r for r in compare(old, new, threshold=10)}
    assert rows["rps"].change_pct == pytest.approx(5.0) and not rows["rps"].flagged
    assert rows["lat"].change_pct == pytest.approx(40.0) and rows["lat"].unit == "ms"
    assert rows["lat"].verdict == "single run, not judged" and not rows["lat"].flagged
    assert rows["gone"].new is None and rows["gone"].verdict == "only in old"
    assert rows["added"].old is None and rows["added"].verdict == "only in new"


def test_too_few_repeats_cannot_reach_the_confidence(tmp_path):
    old = fake_session(tmp_path / "old", {"a": {"lat": {"values": [10, 11], "unit": "ms"}}})
    new = fake_session(tmp_path / "new", {"a": {"lat": {"values": [20, 21], "unit": "ms"}}})
    [row] = compare(old, new)
    assert row.verdict == "too few repeats (2 vs 2) for 95%" and not row.flagged


@pytest.mark.chromium
def test_compare_two_sample_sessions(tmp_path):
    results = tmp_path / "results"
    for _ in range(2):
        proc = run_cli("test", "sample_services", "--results-dir", str(results))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    first, second = sorted(d for d in os.listdir(results) if d.startswith("20"))
    proc = run_cli("compare", first, "latest", "--threshold", "5", "--results-dir", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{first} -> {second}" in proc.stdout and "start_3_nodes (s)" in proc.stdout
    new = session(results)
    png = open(os.path.join(new, "comparison.png"), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 500 and height >= 200
    doc = json.load(open(os.path.join(new, "comparison.json")))
    assert {r["figure"] for r in doc["rows"]} == {"start_3_nodes", "bounce_1_node"}
    html_path = os.path.join(new, "report.html")
    html = open(html_path).read()
    assert 'src="data:image/png;base64,' in html  # embedded: the page stays self-contained
    dom = render(html_path, tmp_path)
    page = parse(dom)
    assert [t[1] for t in page.tests] == ["PASS"]
    assert f"Compared with {first}" in dom
    rows = {row[1]: row for row in page.tables["comparison"][1:]}
    assert set(rows) == {"start_3_nodes (s)", "bounce_1_node (s)"}
    assert {row[-1] for row in rows.values()} == {"single run, not judged"}


def test_compare_bad_session(tmp_path):
    proc = run_cli("compare", "nope", "latest", "--results-dir", str(tmp_path))
    assert_one_line_error(proc, "no session 'nope'")
    fake_session(tmp_path / "a", {"t": {"x": 1}})
    for flag, value, said in (("--confidence", "1.5", "between 0 and 1"), ("--confidence", "high", "'high'"),
                              ("--threshold", "-3", "a percentage")):
        proc = run_cli("compare", "a", "a", flag, value, "--results-dir", str(tmp_path))
        assert_one_line_error(proc, flag, said)
    assert not os.path.exists(tmp_path / "a" / "comparison.json"), "bad input must write nothing"
    proc = run_cli("compare", "a,", ",", "--results-dir", str(tmp_path))
    assert_one_line_error(proc, "no session named in ','")
    proc = run_cli("history", "--results-dir", str(tmp_path / "none"))
    assert_one_line_error(proc, "no results folder")


def test_groups_of_sessions_are_judged_by_their_sessions(tmp_path):
    """Within each session the repeats agree, but the sessions drift: judged by sessions, the
    drift is noise; a shift larger than the drift between sessions is flagged."""
    level = {"a": 100, "b": 112, "c": 95, "d": 108, "e": 103, "f": 97, "g": 110, "h": 101}
    paths = {k: fake_session(tmp_path / k, {"t": {"tput": {"values": [v, v + 0.5, v - 0.5], "unit": "MB/s"}}})
             for k, v in level.items()}
    [row] = compare([paths[k] for k in "aceg"], [paths[k] for k in "bdfh"])
    assert row.basis == "sessions" and row.old_values == [100, 95, 103, 110] and not row.flagged
    assert row.verdict == "no significant change"
    [row] = compare(paths["c"], paths["b"])  # one session a side: only its repeats, drift and all
    assert row.basis == "repeats" and row.verdict == "too few repeats (3 vs 3) for 95%"
    slow = [fake_session(tmp_path / f"s{i}", {"t": {"tput": {"values": [70 + i], "unit": "MB/s"}}}) for i in range(4)]
    [row] = compare([paths[k] for k in "aceg"], slow)
    assert (row.verdict, row.flagged) == ("worse", True) and row.p_value < 0.05


def test_figures_with_the_interval_of_their_median_are_judged_by_it(tmp_path):
    def fig(value, low, high, stable=True):
        return {"value": value, "unit": "ms", "values": [low, value, high], "low": low, "high": high,
                "stable": stable}

    old = fake_session(tmp_path / "old", {"a": {"apart": fig(100, 98, 102), "overlap": fig(100, 90, 110),
                                                "near": fig(100, 99, 101), "plain": {"values": [1, 2], "unit": "s"}}})
    new = fake_session(tmp_path / "new", {"a": {"apart": fig(120, 118, 125, False), "overlap": fig(120, 108, 130),
                                                "near": fig(103, 102, 104), "plain": {"values": [1, 2], "unit": "s"}}})
    got = figures(json.load(open(os.path.join(new, "report.json")))["tests"][0]["data"])
    assert (got["apart"].low, got["apart"].high, got["apart"].stable, got["plain"].low) == (118, 125, False, None)
    rows = {r.figure: r for r in compare(old, new)}
    assert (rows["apart"].verdict, rows["apart"].flagged) == ("worse", True), "intervals apart, +20%"
    assert rows["apart"].old_interval == [98, 102] and rows["apart"].new_interval == [118, 125]
    assert (rows["overlap"].verdict, rows["overlap"].flagged) == ("intervals overlap", False)
    assert (rows["near"].verdict, rows["near"].flagged) == ("intervals apart but within 5%", False)
    assert rows["plain"].new_interval is None and rows["plain"].verdict == "too few repeats (2 vs 2) for 95%"
