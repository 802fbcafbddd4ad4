"""junit.xml: one testcase per test case (parameters in its name), for CI systems."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ducttape.runner.reports.summary import counts, data_summary
from ducttape.runner.result import SessionInfo, TestResult


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 does not allow (NUL, other control characters, lone surrogates)."""


def xml_text(text: str) -> str:
    """``text`` without terminal colour codes and characters XML does not allow."""
    return NOT_XML.sub("", ANSI_ESCAPE.sub("", text))


def render(session: SessionInfo, results: list[TestResult]) -> str:
    c = counts(results)
    failures = c.get("FAIL", 0)
    suite = ET.Element("testsuite", name="ducttape", tests=str(len(results)),
                       failures=str(failures), errors="0",
                       time=f"{sum(r.duration for r in results):.3f}")
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="session_id",
                  value=session.session_id)
    for r in results:
        name = r.method + (f"[{','.join(f'{k}={v}' for k, v in r.params.items())}]" if r.params else "")
        case = ET.SubElement(suite, "testcase", classname=f"{r.module}.{r.cls}", name=name,
                             time=f"{r.duration:.3f}")
        if r.status == "FAIL":
            failure = ET.SubElement(case, "failure", message=r.error or r.status, type=r.status)
            failure.text = r.details
        out = [f"FLAKY: {r.error}"] if r.status == "FLAKY" else []
        if r.data is not None:
            out.append(data_summary(r.data, 10000))
        if out:
            ET.SubElement(case, "system-out").text = "\n".join(out)
    for element in suite.iter():  # test output may hold anything: colour codes, NUL, ...
        element.text = xml_text(element.text) if element.text else element.text
        for key, value in element.attrib.items():
            element.attrib[key] = xml_text(value)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
