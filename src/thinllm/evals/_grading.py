"""The grader protocol, what a grader returns, and how grades decide a case.

A grader is anything with ``__call__(output, case) -> GradeResult`` (or an awaitable of
one, for LLM judges). A plain function qualifies; it may also return a ``bool`` or a
``float`` in [0, 1]. Optional attributes tune it: ``name``, ``version``, ``weight``,
``required`` (a required grader must pass for the case to pass), ``cacheable`` (its
grades are stored in the grade cache) and ``config()`` (what goes into the case hash).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._cases import sha256

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping, Sequence
    from decimal import Decimal

    from ._cases import Case

__all__ = [
    "GradeResult",
    "Grader",
    "Output",
    "grader_info",
    "graders_fingerprint",
    "to_grade",
]


@dataclass(frozen=True, slots=True)
class Output:
    """What the system under test produced for one case and epoch."""

    text: str
    #: Tool calls as ``{"name": ..., "arguments": {...}}`` dicts.
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    #: The structured output the client parsed, when the eval asked for one.
    parsed: Any = None


@dataclass(frozen=True, slots=True)
class GradeResult:
    """One grader's verdict on one output.

    ``score`` is in [0, 1] (``None`` when the grader only says pass/fail); ``reason``
    says why in words a reviewer can check. LLM judges fill ``usage`` (token counts)
    and ``cost`` (USD), kept apart from the system under test's own.
    """

    passed: bool
    score: float | None = None
    reason: str = ""
    usage: Mapping[str, int] = field(default_factory=dict)
    cost: Decimal | None = None

    def __post_init__(self) -> None:
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a grade score must be in [0, 1], got {self.score}")


@runtime_checkable
class Grader(Protocol):
    """Grades one output of one case (a plain function qualifies)."""

    def __call__(
        self, output: Output, case: Case, /
    ) -> GradeResult | bool | float | Awaitable[GradeResult]:
        """Return the grade (or an awaitable of it)."""
        ...


@dataclass(frozen=True, slots=True)
class GraderInfo:
    """A grader's identity and weight, read from its optional attributes."""

    name: str
    version: str
    weight: float
    required: bool
    cacheable: bool
    config: Mapping[str, Any]

    @property
    def key(self) -> str:
        """A stable identity for the grade cache: name, version and configuration."""
        return sha256([self.name, self.version, self.config])


def grader_info(grader: Any) -> GraderInfo:
    """Read ``name``/``version``/``weight``/``required``/``cacheable``/``config()``."""
    name = getattr(grader, "name", None) or getattr(grader, "__name__", None)
    if name is None:
        name = type(grader).__name__
    config_fn = getattr(grader, "config", None)
    config = config_fn() if callable(config_fn) else {}
    if not config and not hasattr(grader, "config"):
        # A plain function: its qualified name stands for its configuration.
        config = {"callable": getattr(grader, "__qualname__", name)}
    return GraderInfo(
        name=str(name),
        version=str(getattr(grader, "version", "1")),
        weight=float(getattr(grader, "weight", 1.0)),
        required=bool(getattr(grader, "required", True)),
        cacheable=bool(getattr(grader, "cacheable", False)),
        config=dict(config),
    )


def graders_fingerprint(graders: Sequence[Any]) -> str:
    """A hash of every grader's name, version, weight and configuration."""
    infos = [grader_info(g) for g in graders]
    return sha256([[i.name, i.version, i.weight, i.required, i.config] for i in infos])


def to_grade(value: Any) -> GradeResult:
    """Turn a grader's return value (``GradeResult``, ``bool`` or ``float``) into a grade."""
    if isinstance(value, GradeResult):
        return value
    if isinstance(value, bool):
        return GradeResult(passed=value, score=1.0 if value else 0.0)
    if isinstance(value, int | float):
        score = float(value)
        return GradeResult(passed=score >= 0.5, score=score, reason=f"score {score:.3f}")
    raise TypeError(f"a grader must return GradeResult, bool or float, got {type(value).__name__}")


async def run_grader(grader: Any, output: Output, case: Case) -> GradeResult:
    """Call a grader, awaiting it if it is asynchronous."""
    value = grader(output, case)
    if inspect.isawaitable(value):
        value = await value
    return to_grade(value)


def decide(
    grades: Sequence[tuple[GraderInfo, GradeResult]], threshold: float | None
) -> tuple[bool, float | None]:
    """A case passes when every required grader passes and, if a threshold is set, the
    weighted mean score meets it. Returns ``(passed, weighted score)``."""
    passed = all(g.passed for info, g in grades if info.required)
    scored = [
        (info.weight, g.score if g.score is not None else float(g.passed)) for info, g in grades
    ]
    total = sum(w for w, _ in scored)
    score = sum(w * s for w, s in scored) / total if total > 0 else None
    if threshold is not None and (score is None or score < threshold):
        passed = False
    return passed, score
