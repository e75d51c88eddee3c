"""Evals as a CI artifact: golden sets, graders, paired statistics and a regression gate.

::

    import thinllm
    from thinllm.evals import Eval, Exact, compare, run

    EVAL = Eval(
        "support-triage",
        cases="cases.jsonl",
        prompt=lambda case: thinllm.Prompt("Answer with one label.", messages=[case.input]),
        graders=[Exact(ignore_case=True)],
        routes=[thinllm.Route(anthropic.AsyncAnthropic(), model="claude-sonnet-5-5")],
        options={"max_tokens": 16, "temperature": 0},
    )
    candidate = run(EVAL, out="runs/pr-123", epochs=3)
    result = compare("baselines/support-triage", candidate)
    result.verdict  # "pass" | "regression" | "inconclusive"

The command line (``thinllm eval run|compare|bless|rotate``) wraps the same functions;
see docs/evals.md.
"""

from __future__ import annotations

from ._assert import EvalAssertionError, assert_eval
from ._cache import EvalCache
from ._cases import Case, CaseFileError, load_cases
from ._compare import CaseDiff, Comparison, TagSlice, compare
from ._graders import (
    Check,
    Contains,
    Exact,
    JSONFields,
    JSONSchema,
    Numeric,
    Regex,
    Similarity,
    ToolCallMatch,
)
from ._grading import Grader, GradeResult, Output
from ._judge import Judge
from ._records import GradeRecord, Record
from ._run import Run, load_run
from ._runner import arun, run
from ._spec import Eval, load_spec, template
from ._target import ClientTarget, FunctionTarget, Generation, Target

__all__ = [
    "Case",
    "CaseDiff",
    "CaseFileError",
    "Check",
    "ClientTarget",
    "Comparison",
    "Contains",
    "Eval",
    "EvalAssertionError",
    "EvalCache",
    "Exact",
    "FunctionTarget",
    "Generation",
    "GradeRecord",
    "GradeResult",
    "Grader",
    "JSONFields",
    "JSONSchema",
    "Judge",
    "Numeric",
    "Output",
    "Record",
    "Regex",
    "Run",
    "Similarity",
    "TagSlice",
    "Target",
    "ToolCallMatch",
    "arun",
    "assert_eval",
    "compare",
    "load_cases",
    "load_run",
    "load_spec",
    "run",
    "template",
]
