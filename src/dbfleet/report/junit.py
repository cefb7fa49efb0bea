"""JUnit XML, the test report every CI system reads (the Jenkins/Ant dialect)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from dbfleet.secrets import redact


@dataclass(frozen=True)
class Case:
    """One test case: passed unless it carries a failure, an error or a skip reason."""

    name: str
    classname: str
    seconds: float = 0.0
    failure: str | None = None  # an assertion that did not hold (short message)
    error: str | None = None  # the test could not run (short message)
    skipped: str | None = None
    details: str = ""  # long text: expected vs actual, the statement, the output
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    cases: Sequence[Case]


def render_junit(suites: Sequence[Suite]) -> str:
    """The suites as one JUnit XML document (secrets masked)."""
    root = ET.Element("testsuites")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for suite in suites:
        counts = {
            "tests": len(suite.cases),
            "failures": sum(c.failure is not None for c in suite.cases),
            "errors": sum(c.error is not None for c in suite.cases),
            "skipped": sum(c.skipped is not None for c in suite.cases),
        }
        seconds = sum(c.seconds for c in suite.cases)
        element = ET.SubElement(root, "testsuite", name=suite.name, time=f"{seconds:.3f}")
        for key, value in counts.items():
            element.set(key, str(value))
        for case in suite.cases:
            _case(element, case)
        for key, value in counts.items():
            totals[key] += value
        total_time += seconds
    root.set("time", f"{total_time:.3f}")
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    xml = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + redact(xml) + "\n"


def _case(parent: ET.Element, case: Case) -> None:
    element = ET.SubElement(
        parent, "testcase", name=case.name, classname=case.classname, time=f"{case.seconds:.3f}"
    )
    if case.file:
        element.set("file", case.file)
    if case.line is not None:
        element.set("line", str(case.line))
    for tag, message in (
        ("failure", case.failure),
        ("error", case.error),
        ("skipped", case.skipped),
    ):
        if message is not None:
            child = ET.SubElement(element, tag, message=message)
            if case.details and tag != "skipped":
                child.text = case.details
