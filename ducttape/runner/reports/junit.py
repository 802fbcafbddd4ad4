"""junit.xml: one testcase per test case (parameters in its name), for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ducttape.runner.reports.summary import counts, data_summary
from ducttape.runner.result import SessionInfo, TestResult


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
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
