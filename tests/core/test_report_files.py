"""Report files are never half written, a damaged file of a past session never stops a report,
and junit.xml is valid XML whatever a test's output held."""

from __future__ import annotations

import json
import os
import threading
import time
import xml.etree.ElementTree as ET

from ducttape.runner.reports import write_reports
from ducttape.runner.reports.index import write_index
from ducttape.runner.result import SessionInfo
from ducttape.runner.result import TestResult as Result


def session(root, name="2026-01-01--001") -> SessionInfo:
    path = os.path.join(root, name)
    os.makedirs(path)
    return SessionInfo(name, path, "localhost", time.time() - 5, time.time())


def failed(error: str, details: str) -> Result:
    return Result("m::C.test", "m", "C", "test", status="FAIL", duration=1.0, error=error,
                      details=details, params={"name": "\x1b[1mbold\x1b[0m"})


def test_junit_is_valid_xml_with_colour_codes_and_nul_in_the_output(tmp_path):
    info = session(tmp_path)
    stderr = "\x1b[31mERROR\x1b[0m disk \x00on\x07 fire \ud800"
    write_reports(info, [failed(f"RemoteCommandError: stderr: {stderr}", f"Traceback...\n{stderr}\n")])
    with open(os.path.join(info.path, "junit.xml"), encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    suite = ET.fromstring(text.encode())  # expat refuses NUL, control characters and lone surrogates
    failure = suite.find("testcase/failure")
    assert failure.get("message") == "RemoteCommandError: stderr: ERROR disk on fire "
    assert "ERROR disk on fire" in failure.text and "\x1b" not in text
    assert suite.find("testcase").get("name") == "test[name=bold]"


def test_a_damaged_comparison_or_past_report_is_skipped_with_a_warning(tmp_path, capsys):
    info = session(tmp_path)
    result = Result("m::C.test", "m", "C", "test", status="PASS", duration=1.0, data={"rate": 5})
    with open(os.path.join(info.path, "comparison.json"), "w") as f:
        f.write('{"old": ["a"], "new": ["b"], "rows": [{"test_id": ')  # cut short
    past = session(tmp_path, "2025-12-31--001")
    with open(os.path.join(past.path, "report.json"), "w") as f:
        f.write("\x00\x00\x00")  # a past session's report damaged
    write_reports(info, [result])  # neither is fatal; the index is written too
    err = capsys.readouterr().err
    assert f"warning: skipped {os.path.join(info.path, 'comparison.json')}" in err
    assert f"warning: skipped {os.path.join(past.path, 'report.json')}" in err
    assert json.loads(open(os.path.join(info.path, "report.json")).read())["tests"][0]["status"] == "PASS"
    assert os.path.exists(os.path.join(tmp_path, "index.html"))
    write_reports(info, [result])
    assert "warning" not in capsys.readouterr().err  # said once


def test_two_writers_at_once_never_collide_or_leave_half_files(tmp_path):
    """A session rewriting its reports while `invoke compare` rewrites them too."""
    info = session(tmp_path)
    results = [Result(f"m::C.t{i}", "m", "C", f"t{i}", status="PASS", duration=1.0, data={"x": i})
                for i in range(30)]
    errors = []

    def writer():
        try:
            for _ in range(15):
                write_reports(info, results)
                write_index(str(tmp_path))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert not [n for n in os.listdir(info.path) if n.endswith(".tmp")]
    assert len(json.loads(open(os.path.join(info.path, "report.json")).read())["tests"]) == 30
    assert oct(os.stat(os.path.join(info.path, "report.json")).st_mode & 0o777) == oct(0o644)
