"""junit.xml: one testcase per test case (parameters in its name), for CI systems.

It follows Maven Surefire's schema (surefire-test-report.xsd, what Jenkins and most CI systems
read): properties exist only for the whole suite, so each case's start time and figures are
suite properties named after the case (``<classname>.<name> started``, ``<classname>.<name>
figure <figure>``); a case's figures and ``show()`` text are its ``system-out``; the failed
attempts of a flaky test are its ``flakyFailure`` elements. A known failure (KNOWN-FAIL) and a
test ``--exit-first`` kept from running (NOT-RUN) are ``skipped`` with the reason; tags and the
known-failure reason are suite properties too (``<classname>.<name> tags``, ``... known_failure``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ducttape.runner.figures import figures
from ducttape.runner.reports.summary import builds_line, counts, figures_table, iso_time
from ducttape.runner.result import FAIL, FLAKY, KNOWN_FAIL, NOT_RUN, SessionInfo, TestResult


def case_name(r: TestResult) -> str:
    """The testcase's name: the method, with the case's parameters."""
    return r.method + (f"[{','.join(f'{k}={v}' for k, v in r.params.items())}]" if r.params else "")


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 does not allow (NUL, other control characters, lone surrogates)."""


def xml_text(text: str) -> str:
    """``text`` without terminal colour codes and characters XML does not allow."""
    return NOT_XML.sub("", ANSI_ESCAPE.sub("", text))


def render(session: SessionInfo, results: list[TestResult]) -> str:
    """junit.xml of the session."""
    c = counts(results)
    suite = ET.Element(
        "testsuite",
        name="ducttape",
        tests=str(len(results)),
        failures=str(c.get(FAIL, 0)),
        errors="0",
        skipped=str(c.get(KNOWN_FAIL, 0) + c.get(NOT_RUN, 0)),
        time=f"{sum(r.duration for r in results):.3f}",
    )
    properties = ET.SubElement(suite, "properties")

    def prop(name: str, value: str) -> None:
        ET.SubElement(properties, "property", name=name, value=value)

    prop("session_id", session.session_id)
    prop("timestamp", iso_time(session.started))
    prop("cluster", session.cluster)
    prop("builds", builds_line(session, results))
    for r in results:
        name = case_name(r)
        case = ET.SubElement(suite, "testcase", classname=f"{r.module}.{r.cls}", name=name, time=f"{r.duration:.3f}")
        key = f"{r.module}.{r.cls}.{name}"
        prop(f"{key} started", iso_time(r.started))
        prop(f"{key} status", r.status)
        if r.tags:
            prop(f"{key} tags", ",".join(r.tags))
        if r.known_failure:
            prop(f"{key} known_failure", r.known_failure)
        for figure, f in figures(r.data).items():
            better = f", {f.better} is better" if f.better else ""
            prop(f"{key} figure {figure or '(value)'}", f"{f.value:.6g} {f.unit}".rstrip() + better)
        if r.status == FAIL:
            failure = ET.SubElement(case, "failure", message=r.error or r.status, type=r.status)
            failure.text = r.details
        elif r.status == KNOWN_FAIL:
            reason = f"known failure ({r.known_failure}): {r.error}"
            ET.SubElement(case, "skipped", message=reason).text = r.details
        elif r.status == NOT_RUN:
            ET.SubElement(case, "skipped", message=r.error)
        elif r.status == FLAKY:
            for attempt in r.attempts:
                if attempt["status"] != FAIL:
                    continue
                flaky = ET.SubElement(case, "flakyFailure", message=attempt["error"], type=FAIL)
                ET.SubElement(flaky, "stackTrace").text = attempt.get("details") or attempt["error"]
        out = [
            f"started: {iso_time(r.started)}",
            *([f"nodes: {', '.join(r.nodes)}"] if r.nodes else []),
            *(part for part in (figures_table(r.data), r.summary) if part),
        ]
        ET.SubElement(case, "system-out").text = "\n".join(out)
    for element in suite.iter():  # test output may hold anything: colour codes, NUL, ...
        element.text = xml_text(element.text) if element.text else element.text
        for key, value in element.attrib.items():
            element.attrib[key] = xml_text(value)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
