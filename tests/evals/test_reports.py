"""Reports: terminal, Markdown, self-contained HTML (escaped) and JUnit XML."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from _evals_helpers import make_run, uniform

from thinllm.evals import compare
from thinllm.evals._progress import Progress
from thinllm.evals._report_html import word_diff
from thinllm.evals._report_junit import run_junit

T, F = True, False
EVIL = "<script>alert('x')</script> & \x00"


def comparison():
    base = uniform(30, [T, T, T]) | {"bad": [T, T, T], "flaky": [T, F, T]}
    cand = uniform(30, [T, T, T]) | {"bad": [F, F, F], "flaky": [F, F, F]}
    return compare(
        make_run(base, tags={"bad": ["tricky"]}),
        make_run(cand, arm="cand", tags={"bad": ["tricky"]}, outputs={"bad": EVIL}),
    )


class TestTextAndMarkdown:
    def test_terminal_report_names_verdict_transitions_and_cases(self) -> None:
        """The terminal report shows the verdict, the interval, transitions and regressed cases."""
        text = comparison().to_text()
        assert "verdict: " in text
        assert "95% CI" in text
        assert "pass->fail 1" in text
        assert "bad ✓✓✓ -> ✗✗✗" in text
        assert "unstable in the baseline" in text

    def test_markdown_is_table_safe(self) -> None:
        """Markdown has the verdict heading and escapes pipes and angle brackets in cells."""
        md = comparison().to_markdown()
        assert md.startswith("### ")
        assert "<script>" not in md

    def test_run_summary(self) -> None:
        """A run without a baseline prints its pass rate and failing cases."""
        run = make_run({"a": [T], "b": [F]})
        assert "50.0%" in run.to_text()
        assert "| b |" in run.to_markdown()


class TestHTML:
    def test_everything_is_escaped(self) -> None:
        """Model output cannot inject markup into the HTML report."""
        html = comparison().to_html()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)" in html
        assert html.startswith("<!doctype html>")

    def test_notebook_repr(self) -> None:
        """Runs and comparisons render in notebooks."""
        assert "eval verdict" in comparison()._repr_html_()
        assert "<details" in make_run({"a": [T]})._repr_html_()

    def test_word_diff_marks_changes(self) -> None:
        """Side-by-side diffs mark removed and added words, escaped."""
        assert "a <del>b</del><ins>&lt;c&gt;</ins> d" == word_diff("a b d", "a <c> d")


class TestJUnit:
    def test_one_testcase_per_case_and_valid_xml(self) -> None:
        """JUnit XML parses, has one testcase per case, and fails the regressed ones."""
        root = ET.fromstring(comparison().to_junit())
        suite = root.find("testsuite")
        assert suite is not None
        assert 32 == len(suite.findall("testcase"))
        failed = [
            tc.get("name") for tc in suite.findall("testcase") if tc.find("failure") is not None
        ]
        assert ["bad", "flaky"] == sorted(failed)
        flaky = next(tc for tc in suite.findall("testcase") if tc.get("name") == "flaky")
        assert "baseline unstable" in (flaky.findtext("system-out") or "")

    def test_errors_are_junit_errors(self) -> None:
        """An errored case is a JUnit <error>, not a <failure>."""
        root = ET.fromstring(run_junit(make_run({"a": [None], "b": [T]})))
        suite = root.find("testsuite")
        assert suite is not None
        assert ("1", "0") == (suite.get("errors"), suite.get("failures"))


class TestProgress:
    def records(self):
        return make_run({"a": [T], "b": [None], "c": [F]}).records

    def test_plain_lines_in_ci(self) -> None:
        """Without a terminal, progress is plain lines with errors and retries spelled out."""
        stream = io.StringIO()
        progress = Progress(3, label="ev", stream=stream, tty=False, clock=lambda: 0.0)
        for record in self.records():
            progress(record)
        text = stream.getvalue()
        assert "\r" not in text
        assert "ev: error on case b epoch 0: timeout" in text
        assert "ev: 3/3 done, 1 errors, 0 retries, 0 cached" in text

    def test_bar_on_a_terminal(self) -> None:
        """On a terminal, one line is redrawn in place."""
        stream = io.StringIO()
        progress = Progress(3, stream=stream, tty=True, clock=lambda: 0.0)
        for record in self.records():
            progress(record)
        progress.close()
        assert stream.getvalue().count("\r") == 3
        assert "[########################]" in stream.getvalue()


class TestJUnitUnpaired:
    def test_added_cases_are_test_cases_too(self) -> None:
        """A case added since the baseline still appears in JUnit, marked as not compared."""
        result = compare(make_run({"a": [T]}), make_run({"a": [T], "new": [F]}, arm="c"))
        suite = ET.fromstring(result.to_junit()).find("testsuite")
        assert suite is not None
        new = next(tc for tc in suite.findall("testcase") if tc.get("name") == "new")
        assert new.find("failure") is not None
        assert "added (not compared)" in (new.findtext("system-out") or "")
