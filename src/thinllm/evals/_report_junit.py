"""JUnit XML (one ``<testcase>`` per eval case) for CI test views.

A case fails when it fails in most candidate epochs; an errored case is an
``<error>``. Cases that are unstable in the baseline say so in ``<system-out>`` so a
reviewer does not chase noise.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from ._report_text import epochs_dots, first_reason

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._compare import Comparison
    from ._records import Record
    from ._run import Run

__all__ = ["comparison_junit", "run_junit"]

# Characters XML 1.0 cannot carry; model output sometimes contains them.
_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _INVALID.sub("\ufffd", text)


def _case(
    suite: ET.Element, name: str, records: Sequence[Record], note: str, classname: str
) -> tuple[bool, bool]:
    element = ET.SubElement(suite, "testcase", name=_clean(name), classname=_clean(classname))
    total = sum(r.latency_ms for r in records) / 1000
    element.set("time", f"{total:.3f}")
    graded = [r for r in records if not r.errored]
    errored = not graded
    failed = not errored and sum(bool(r.passed) for r in graded) * 2 < len(graded)
    if errored:
        ET.SubElement(element, "error", message=_clean(first_reason(records)))
    elif failed:
        ET.SubElement(element, "failure", message=_clean(first_reason(records)))
    out = ET.SubElement(element, "system-out")
    out.text = _clean(f"epochs {epochs_dots(records)} {note}".strip())
    return failed, errored


def _document(suite: ET.Element, tests: int, failures: int, errors: int) -> str:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def comparison_junit(c: Comparison) -> str:
    """The candidate's cases as JUnit test cases, with each case's transition noted."""
    suite = ET.Element("testsuite", name=f"thinllm eval ({c.verdict})")
    failures = errors = 0
    for d in c.cases:
        note = d.status + (
            " (baseline unstable: not evidence on its own)" if d.status == "unstable" else ""
        )
        failed, errored = _case(suite, d.case_id, d.candidate_records, note, "eval")
        failures += failed
        errors += errored
    unpaired: dict[str, list[Record]] = c.extras.get("unpaired", {})
    for case_id, records in sorted(unpaired.items()):
        kind = "added" if case_id in c.added else "edited"
        failed, errored = _case(suite, case_id, records, f"{kind} (not compared)", "eval")
        failures += failed
        errors += errored
    return _document(suite, len(c.cases) + len(unpaired), failures, errors)


def run_junit(run: Run) -> str:
    """One run's cases as JUnit test cases."""
    suite = ET.Element("testsuite", name=f"thinllm eval {run.name}")
    grouped: dict[str, list[Record]] = {}
    for r in run.records:
        grouped.setdefault(r.case_id, []).append(r)
    failures = errors = 0
    for case_id, records in grouped.items():
        failed, errored = _case(suite, case_id, records, "", run.name)
        failures += failed
        errors += errored
    return _document(suite, len(grouped), failures, errors)
