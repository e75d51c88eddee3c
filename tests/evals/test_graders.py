"""Graders: each built-in grader's verdict, score and reason, and how grades decide a case."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pydantic
import pytest

import thinllm
from thinllm.errors import ConfigurationError
from thinllm.evals import (
    Case,
    Check,
    Contains,
    Exact,
    GradeResult,
    JSONFields,
    JSONSchema,
    Judge,
    Numeric,
    Regex,
    Similarity,
    ToolCallMatch,
)
from thinllm.evals._grading import Output, decide, grader_info, graders_fingerprint, to_grade
from thinllm.testing import FakeVendor


def out(text: str, **kw: object) -> Output:
    return Output(text, **kw)  # type: ignore[arg-type]


def case(expected: object = None) -> Case:
    return Case("c", "input", expected)


class TestExact:
    def test_whitespace_is_ignored_by_default(self) -> None:
        """Trailing newlines and doubled spaces do not fail an exact match."""
        assert Exact()(out(" billing \n"), case("billing")).passed

    def test_case_and_punctuation_options(self) -> None:
        """ignore_case and ignore_punctuation loosen the comparison only when asked."""
        assert not Exact()(out("Billing."), case("billing")).passed
        assert Exact(ignore_case=True, ignore_punctuation=True)(
            out("Billing."), case("billing")
        ).passed

    def test_any_of_a_list_and_own_expected(self) -> None:
        """A list of accepted answers passes on any; an explicit expected overrides the case's."""
        assert Exact()(out("b"), case(["a", "b"])).passed
        result = Exact("x")(out("y"), case("y"))
        assert not result.passed
        assert "expected 'x'" in result.reason


class TestContains:
    def test_any_and_all(self) -> None:
        """mode=any needs one text, mode=all needs each (score = share found)."""
        assert Contains(["a", "z"])(out("abc"), case()).passed
        result = Contains(["a", "z"], mode="all")(out("abc"), case())
        assert not result.passed
        assert 0.5 == result.score
        assert "missing" in result.reason

    def test_uses_case_expected(self) -> None:
        """Without values it looks for the case's expected text, case-insensitively if asked."""
        assert Contains(ignore_case=True)(out("The ANSWER is"), case("answer")).passed

    def test_bad_mode_is_refused(self) -> None:
        """A typo in mode fails at construction, not silently at grading time."""
        with pytest.raises(ConfigurationError):
            Contains(["a"], mode="some")


class TestRegex:
    def test_search_and_full(self) -> None:
        """By default the pattern is searched; full=True requires the whole output."""
        assert Regex(r"\d+")(out("id 42"), case()).passed
        assert not Regex(r"\d+", full=True)(out("id 42"), case()).passed

    def test_bad_pattern_fails_early(self) -> None:
        """An invalid regular expression is a configuration error."""
        with pytest.raises(ConfigurationError, match="bad regular expression"):
            Regex("(")


class TestNumeric:
    @pytest.mark.parametrize(
        ("text", "expected", "kw", "passed"),
        [
            pytest.param("The total is 1,234.5", 1234.5, {}, True, id="thousands"),
            pytest.param("3 apples then 10", 10, {}, True, id="last"),
            pytest.param("3 apples then 10", 3, {"extract": "first"}, True, id="first"),
            pytest.param("9.9", 10, {"abs_tol": 0.2}, True, id="abs"),
            pytest.param("9.0", 10, {"rel_tol": 0.05}, False, id="rel-outside"),
            pytest.param("no digits", 1, {}, False, id="none"),
        ],
    )
    def test_tolerances_and_extraction(
        self, text: str, expected: float, kw: dict[str, object], passed: bool
    ) -> None:
        """Numbers are pulled from prose and compared within abs/rel tolerance."""
        assert passed == Numeric(expected, **kw)(out(text), case()).passed  # type: ignore[arg-type]

    def test_non_numeric_expected_fails_with_reason(self) -> None:
        """An expected value that is not a number fails with a reason instead of crashing."""
        assert "not a number" in Numeric()(out("1"), case("abc")).reason


class TestSimilarity:
    def test_ratio_is_the_score(self) -> None:
        """The similarity ratio is the score; the threshold decides the pass."""
        result = Similarity(threshold=0.9)(out("hello world"), case("hello wrld"))
        assert result.score is not None and 0.9 < result.score < 1
        assert result.passed
        assert not Similarity(threshold=0.99)(out("hello world"), case("hello wrld")).passed


class Ticket(pydantic.BaseModel):
    label: str
    priority: int


class TestJSONSchema:
    SCHEMA: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "label": {"enum": ["bug", "billing"]},
            "priority": {"type": "integer", "minimum": 1},
        },
        "required": ["label", "priority"],
        "additionalProperties": False,
    }

    def test_valid_json_in_a_code_fence(self) -> None:
        """JSON inside a Markdown fence validates."""
        text = 'Here:\n```json\n{"label": "bug", "priority": 2}\n```'
        assert JSONSchema(self.SCHEMA)(out(text), case()).passed

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            pytest.param('{"label": "bug"}', "priority: required", id="required"),
            pytest.param('{"label": "x", "priority": 1}', "one of", id="enum"),
            pytest.param('{"label": "bug", "priority": 0}', "minimum", id="minimum"),
            pytest.param('{"label": "bug", "priority": 1, "x": 1}', "not allowed", id="extra"),
            pytest.param("not json", "no JSON", id="not-json"),
        ],
    )
    def test_violations_are_explained(self, text: str, reason: str) -> None:
        """Each violation fails the grade and is named in the reason."""
        result = JSONSchema(self.SCHEMA)(out(text), case())
        assert not result.passed
        assert reason in result.reason

    def test_pydantic_model(self) -> None:
        """A pydantic model validates the output too."""
        grader = JSONSchema(Ticket)
        assert grader(out('{"label": "bug", "priority": 1}'), case()).passed
        assert "priority" in grader(out('{"label": "bug"}'), case()).reason

    def test_unsupported_keyword_is_not_ignored(self) -> None:
        """A keyword the built-in validator cannot check is refused, not silently skipped."""
        with pytest.raises(ConfigurationError, match=r"\$ref"):
            JSONSchema({"$ref": "#/defs/x"})


class TestJSONFields:
    def test_fields_of_expected(self) -> None:
        """Every leaf of the expected object is compared; the score is the share equal."""
        result = JSONFields()(out('{"a": 1, "b": {"c": "x"}}'), case({"a": 1, "b": {"c": "y"}}))
        assert not result.passed
        assert 0.5 == result.score
        assert "b.c" in result.reason

    def test_selected_paths_and_lists(self) -> None:
        """Dotted paths reach into lists; other fields are ignored."""
        grader = JSONFields({"items": [{"sku": "A"}]}, fields=["items.0.sku"])
        assert grader(out('{"items": [{"sku": "A", "n": 2}], "other": 1}'), case()).passed


class TestToolCallMatch:
    CALLS = ({"name": "lookup", "arguments": {"id": 7, "verbose": True}},)

    def test_partial_arguments(self) -> None:
        """Expected arguments must be a subset of the actual ones by default."""
        grader = ToolCallMatch({"name": "lookup", "arguments": {"id": 7}})
        assert grader(out("", tool_calls=self.CALLS), case()).passed

    def test_exact_arguments_and_wrong_tool(self) -> None:
        """partial=False needs equal arguments; a different tool fails with what was called."""
        strict = ToolCallMatch({"name": "lookup", "arguments": {"id": 7}}, partial=False)
        assert not strict(out("", tool_calls=self.CALLS), case()).passed
        result = ToolCallMatch()(out("", tool_calls=self.CALLS), case({"name": "refund"}))
        assert "model called lookup" in result.reason


class TestCheck:
    def test_bool_float_and_grade_results(self) -> None:
        """A function may return a bool, a float or a GradeResult."""
        assert Check(lambda o, c: True)(out("x"), case()).passed  # type: ignore[union-attr]
        graded = Check(lambda o, c: 0.3)(out("x"), case())
        assert isinstance(graded, GradeResult) and not graded.passed and 0.3 == graded.score

    def test_async_function(self) -> None:
        """An async function is awaited."""

        async def slow(o: Output, c: Case) -> bool:
            return o.text == "x"

        result = Check(slow)(out("x"), case())
        assert not isinstance(result, GradeResult)
        assert asyncio.run(result).passed  # type: ignore[arg-type]

    def test_out_of_range_score_is_refused(self) -> None:
        """A score outside [0, 1] is a bug in the grader, reported as such."""
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            to_grade(1.5)


class TestDecide:
    def test_required_graders_gate_and_threshold(self) -> None:
        """A case passes when every required grader passes and the weighted score meets the threshold."""
        req = grader_info(Exact())
        opt = grader_info(Contains(["z"], required=False, weight=3))
        good, meh = GradeResult(True, 1.0), GradeResult(False, 0.0)
        assert (True, 0.25) == decide([(req, good), (opt, meh)], None)
        assert (False, 0.25) == decide([(req, good), (opt, meh)], 0.5)
        assert not decide([(req, meh), (opt, good)], None)[0]

    def test_fingerprint_changes_with_configuration(self) -> None:
        """Changing a grader's options or version changes the fingerprint used in case hashes."""
        assert graders_fingerprint([Exact()]) == graders_fingerprint([Exact()])
        assert graders_fingerprint([Exact()]) != graders_fingerprint([Exact(ignore_case=True)])
        assert graders_fingerprint([Check(len, version="1")]) != graders_fingerprint(
            [Check(len, version="2")]
        )


class TestJudgeParsing:
    def judge(self, **kw: object) -> Judge:
        fake = FakeVendor()
        return Judge(thinllm.Route(fake.anthropic(), model="claude-haiku-4-5"), "rubric", **kw)  # type: ignore[arg-type]

    def test_labels_map_to_scores(self) -> None:
        """A label reply maps to its score, case-insensitively, with the judge's reason."""
        judge = self.judge(labels={"correct": 1.0, "partial": 0.5, "wrong": 0.0}, pass_score=0.5)
        assert (0.5, "partial: close") == judge._parse(
            'Sure: {"reason": "close", "label": "Partial"}'
        )

    def test_scale_is_normalised(self) -> None:
        """An integer score on a 1..5 scale becomes a score in [0, 1]."""
        assert 0.75 == self.judge(scale=(1, 5))._parse('{"reason": "ok", "score": 4}')[0]

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("no json here", id="no-json"),
            pytest.param('{"label": "maybe"}', id="unknown-label"),
        ],
    )
    def test_unreadable_replies_are_errors_not_passes(self, text: str) -> None:
        """A reply the judge cannot read never counts as a pass."""
        with pytest.raises(ValueError):
            self.judge()._parse(text)

    def test_prompt_and_config(self) -> None:
        """The judge prompt carries rubric, input, reference and response; its config pins the model."""
        judge = self.judge()
        prompt = judge.prompt(Output("Paris"), Case("c", "Capital of France?", "Paris"))
        text = prompt.messages[0].text
        assert (
            "RUBRIC:" in text and "REFERENCE ANSWER:\nParis" in text and "RESPONSE:\nParis" in text
        )
        assert "claude-haiku-4-5" == judge.config()["model"]

    def test_labels_and_scale_together_are_refused(self) -> None:
        """Giving both labels and a scale is a configuration error."""
        with pytest.raises(ConfigurationError):
            self.judge(labels={"a": 1.0}, scale=(1, 5))
