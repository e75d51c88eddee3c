"""An LLM judge: a rubric, a pinned route, temperature 0, a label or a score as JSON.

The judge's calls go through a ``thinllm.Client`` like any other (tagged
``workflow="eval-judge:<name>"``); its tokens and cost are recorded apart from the
system under test's. Its grades are cached by (rubric, model, output, expected), so an
unchanged output is never re-judged with fresh judge noise.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from thinllm._prompt import Prompt, user
from thinllm._tags import Tags
from thinllm.errors import ConfigurationError, UnsupportedOptionError

from ._grading import GradeResult, Output
from ._target import complete_via

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from ._cases import Case

__all__ = ["Judge"]

_SYSTEM = """You are a strict evaluator. Grade the RESPONSE against the RUBRIC.
{instructions}
Reply with one JSON object and nothing else: {shape}"""


class Judge:
    """Grades an output with a model, following ``rubric``.

    ``judge`` is a ``thinllm.Route`` or a ``thinllm.Client`` (pin a dated model
    snapshot: a moving alias changes the judge under you). Either give ``labels``, a
    mapping of label to score (``{"correct": 1.0, "partial": 0.5, "wrong": 0.0}``), or
    ``scale=(1, 5)`` for an integer score normalised to [0, 1]. The grade passes when the
    normalised score is at least ``pass_score``.
    """

    version = "1"
    cacheable = True

    def __init__(
        self,
        judge: Any,
        rubric: str,
        *,
        labels: Mapping[str, float] | None = None,
        scale: tuple[int, int] | None = None,
        pass_score: float = 1.0,
        include_expected: bool = True,
        max_tokens: int = 512,
        name: str = "judge",
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        if (labels is None) == (scale is None):
            if labels is None and scale is None:
                labels = {"pass": 1.0, "fail": 0.0}
            else:
                raise ConfigurationError("Judge takes labels= or scale=, not both")
        if labels is not None and not all(0 <= v <= 1 for v in labels.values()):
            raise ConfigurationError("Judge(labels=...) scores must be in [0, 1]")
        if scale is not None and not scale[0] < scale[1]:
            raise ConfigurationError("Judge(scale=(low, high)) needs low < high")
        self.rubric = rubric
        self.labels = dict(labels) if labels is not None else None
        self.scale = scale
        self.pass_score = pass_score
        self.include_expected = include_expected
        self.max_tokens = max_tokens
        self.name = name
        self.weight = weight
        self.required = required
        self._judge = judge
        self._client: Any = None

    @property
    def model(self) -> str:
        """The judge model (part of the grader configuration and cache key)."""
        routes = getattr(self._judge, "routes", None)
        route = routes[0] if routes else self._judge
        return str(getattr(route, "model", "?"))

    def config(self) -> dict[str, Any]:
        """Rubric, labels or scale, threshold and judge model."""
        return {
            "rubric": self.rubric,
            "labels": self.labels,
            "scale": list(self.scale) if self.scale else None,
            "pass_score": self.pass_score,
            "include_expected": self.include_expected,
            "model": self.model,
        }

    def prompt(self, output: Output, case: Case) -> Prompt:
        """The exact judge prompt (shown so a rubric can be debugged)."""
        if self.labels is not None:
            instructions = "Choose exactly one label: " + ", ".join(self.labels) + "."
            shape = '{"reason": "<one or two sentences>", "label": "<label>"}'
        else:
            assert self.scale is not None
            low, high = self.scale
            instructions = f"Give an integer score from {low} (worst) to {high} (best)."
            shape = '{"reason": "<one or two sentences>", "score": <integer>}'
        parts = [f"RUBRIC:\n{self.rubric}", f"INPUT:\n{_text(case.input)}"]
        if self.include_expected and case.expected is not None:
            parts.append(f"REFERENCE ANSWER:\n{_text(case.expected)}")
        parts.append(f"RESPONSE:\n{output.text}")
        return Prompt(
            _SYSTEM.format(instructions=instructions, shape=shape),
            messages=[user("\n\n".join(parts))],
            cache=False,
        )

    async def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Ask the judge model and parse its label or score."""
        client = self._get_client()
        prompt = self.prompt(output, case)
        tags = Tags(workflow=f"eval-judge:{self.name}")
        route = client.routes[0]
        try:
            reply = await complete_via(
                client, route, prompt, tags=tags, max_tokens=self.max_tokens, temperature=0
            )
        except UnsupportedOptionError:
            # Some reasoning models refuse temperature; the rubric still pins the task.
            reply = await complete_via(client, route, prompt, tags=tags, max_tokens=self.max_tokens)
        usage = reply.usage.as_dict()
        cost: Decimal | None = reply.cost
        try:
            score, reason = self._parse(reply.text)
        except ValueError as exc:
            return GradeResult(
                passed=False,
                score=None,
                reason=f"unreadable judge reply: {exc}",
                usage=usage,
                cost=cost,
            )
        return GradeResult(
            passed=score >= self.pass_score, score=score, reason=reason, usage=usage, cost=cost
        )

    def _parse(self, text: str) -> tuple[float, str]:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end < start:
            raise ValueError("no JSON object")
        try:
            data = json.loads(text[start : end + 1])
        except json.JSONDecodeError as exc:
            raise ValueError(exc.msg) from None
        reason = str(data.get("reason", ""))[:500]
        if self.labels is not None:
            label = str(data.get("label", "")).strip().lower()
            lookup = {k.lower(): v for k, v in self.labels.items()}
            if label not in lookup:
                raise ValueError(f"label {label!r} is not one of {list(self.labels)}")
            return lookup[label], f"{label}: {reason}"
        assert self.scale is not None
        low, high = self.scale
        try:
            raw = int(data.get("score"))
        except (TypeError, ValueError):
            raise ValueError("no integer score") from None
        if not low <= raw <= high:
            raise ValueError(f"score {raw} outside {low}..{high}")
        return (raw - low) / (high - low), f"{raw}/{high}: {reason}"

    def _get_client(self) -> Any:
        if self._client is None:
            if hasattr(self._judge, "acomplete"):
                self._client = self._judge
            else:
                import thinllm

                self._client = thinllm.Client(routes=[self._judge])
        return self._client

    def __repr__(self) -> str:
        return f"Judge({self.name!r}, model={self.model!r})"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)
