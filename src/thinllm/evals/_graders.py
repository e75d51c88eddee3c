"""Deterministic graders: exact, contains, regex, numeric, similarity, JSON and tool calls.

Each compares the output with its own ``expected`` when given, else with the case's
``expected``. Every grader takes ``weight=``, ``required=`` and ``name=``; its
configuration goes into the case hash, so changing a grader unpairs the cases it grades.
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import re
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from thinllm.errors import ConfigurationError

from ._grading import GradeResult, Output, to_grade
from ._jsonschema import compile_schema

if TYPE_CHECKING:
    from ._cases import Case

__all__ = [
    "Check",
    "Contains",
    "Exact",
    "JSONFields",
    "JSONSchema",
    "Numeric",
    "Regex",
    "Similarity",
    "ToolCallMatch",
    "extract_json",
]

_MISSING: Any = object()
_PUNCT = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")


class _Base:
    """Shared options: ``name``, ``weight``, ``required`` and the config used for hashing."""

    version = "1"
    cacheable = False

    def __init__(self, *, name: str | None, weight: float, required: bool) -> None:
        if weight < 0:
            raise ConfigurationError(f"grader weight must be >= 0, got {weight}")
        self.name = name or type(self).__name__.lower()
        self.weight = weight
        self.required = required

    def config(self) -> dict[str, Any]:
        """What identifies this grader's behaviour (hashed into the case hash)."""
        return {k: _jsonable(v) for k, v in vars(self).items() if not k.startswith("_")}

    def _expected(self, own: Any, case: Case) -> Any:
        return case.expected if own is _MISSING else own

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _jsonable(value: Any) -> Any:
    if value is _MISSING:
        return "<case.expected>"
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, re.Pattern):
        return value.pattern
    return value


def _normalise(text: str, *, ignore_case: bool, ignore_punctuation: bool, collapse: bool) -> str:
    if ignore_case:
        text = text.casefold()
    if ignore_punctuation:
        text = text.translate(_PUNCT)
    if collapse:
        text = " ".join(text.split())
    return text


def _short(value: Any, n: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return repr(text if len(text) <= n else text[: n - 1] + "…")


class Exact(_Base):
    """The output equals the expected text, after optional normalisation.

    By default surrounding and repeated whitespace is ignored; ``ignore_case`` and
    ``ignore_punctuation`` loosen it further. A list of expected texts accepts any.
    """

    def __init__(
        self,
        expected: Any = _MISSING,
        *,
        ignore_case: bool = False,
        ignore_punctuation: bool = False,
        ignore_whitespace: bool = True,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        super().__init__(name=name, weight=weight, required=required)
        self.expected = expected
        self.ignore_case = ignore_case
        self.ignore_punctuation = ignore_punctuation
        self.ignore_whitespace = ignore_whitespace

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Compare normalised texts."""
        expected = self._expected(self.expected, case)
        options = {
            "ignore_case": self.ignore_case,
            "ignore_punctuation": self.ignore_punctuation,
            "collapse": self.ignore_whitespace,
        }
        wanted = expected if isinstance(expected, list) else [expected]
        got = _normalise(output.text, **options)
        ok = any(got == _normalise(str(w), **options) for w in wanted)
        reason = "matches" if ok else f"expected {_short(expected)}, got {_short(output.text)}"
        return GradeResult(passed=ok, score=float(ok), reason=reason)


class Contains(_Base):
    """The output contains any (``mode="any"``) or all (``mode="all"``) of the texts."""

    def __init__(
        self,
        values: Sequence[str] | str | Any = _MISSING,
        *,
        mode: str = "any",
        ignore_case: bool = False,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        if mode not in ("any", "all"):
            raise ConfigurationError("Contains(mode=...) is 'any' or 'all'")
        super().__init__(name=name, weight=weight, required=required)
        self.values = values
        self.mode = mode
        self.ignore_case = ignore_case

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Check each text; in ``all`` mode the score is the share found."""
        values = self._expected(self.values, case)
        wanted = [values] if isinstance(values, str) else [str(v) for v in values or ()]
        if not wanted:
            return GradeResult(passed=False, score=None, reason="nothing to look for")
        text = output.text.casefold() if self.ignore_case else output.text
        found = [w for w in wanted if (w.casefold() if self.ignore_case else w) in text]
        ok = bool(found) if self.mode == "any" else len(found) == len(wanted)
        missing = [w for w in wanted if w not in found]
        reason = f"found {len(found)}/{len(wanted)}" + (
            f"; missing {_short(missing)}" if missing and not ok else ""
        )
        score = len(found) / len(wanted) if self.mode == "all" else float(ok)
        return GradeResult(passed=ok, score=score, reason=reason)


class Regex(_Base):
    """The output matches a regular expression (``full=True``: the whole output)."""

    def __init__(
        self,
        pattern: str | Any = _MISSING,
        *,
        ignore_case: bool = False,
        full: bool = False,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        super().__init__(name=name, weight=weight, required=required)
        if isinstance(pattern, str):
            _compile(pattern, ignore_case)
        self.pattern = pattern
        self.ignore_case = ignore_case
        self.full = full

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Search (or full-match) the pattern."""
        pattern = _compile(str(self._expected(self.pattern, case)), self.ignore_case)
        match = (pattern.fullmatch if self.full else pattern.search)(output.text.strip())
        reason = "matches" if match else f"no match for /{pattern.pattern}/"
        return GradeResult(passed=match is not None, score=float(match is not None), reason=reason)


def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ConfigurationError(f"bad regular expression {pattern!r}: {exc}") from None


class Numeric(_Base):
    """A number in the output is within ``abs_tol`` or ``rel_tol`` of the expected one.

    ``extract`` picks which number of the text counts: ``"last"`` (default; models put
    the answer after their working), ``"first"`` or ``"whole"`` (the whole output).
    """

    def __init__(
        self,
        expected: float | Any = _MISSING,
        *,
        abs_tol: float = 0.0,
        rel_tol: float = 0.0,
        extract: str = "last",
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        if extract not in ("last", "first", "whole"):
            raise ConfigurationError("Numeric(extract=...) is 'last', 'first' or 'whole'")
        super().__init__(name=name, weight=weight, required=required)
        self.expected = expected
        self.abs_tol = abs_tol
        self.rel_tol = rel_tol
        self.extract = extract

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Parse both numbers and compare them with ``math.isclose``."""
        raw = self._expected(self.expected, case)
        try:
            expected = float(str(raw).replace(",", ""))
        except ValueError:
            return GradeResult(passed=False, reason=f"expected value {raw!r} is not a number")
        got = _number(output.text, self.extract)
        if got is None:
            return GradeResult(passed=False, score=0.0, reason="no number in the output")
        ok = math.isclose(got, expected, rel_tol=self.rel_tol, abs_tol=self.abs_tol)
        reason = f"{got:g} vs {expected:g}" + ("" if ok else " (outside tolerance)")
        return GradeResult(passed=ok, score=float(ok), reason=reason)


def _number(text: str, extract: str) -> float | None:
    if extract == "whole":
        try:
            return float(text.strip().replace(",", ""))
        except ValueError:
            return None
    found = _NUMBER.findall(text)
    if not found:
        return None
    return float((found[-1] if extract == "last" else found[0]).replace(",", ""))


class Similarity(_Base):
    """Character similarity ratio (``difflib.SequenceMatcher``) to the expected text.

    The score is the ratio; the grade passes when it is at least ``threshold``.
    """

    def __init__(
        self,
        expected: str | Any = _MISSING,
        *,
        threshold: float = 0.8,
        ignore_case: bool = True,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        if not 0 <= threshold <= 1:
            raise ConfigurationError("Similarity(threshold=...) must be in [0, 1]")
        super().__init__(name=name, weight=weight, required=required)
        self.expected = expected
        self.threshold = threshold
        self.ignore_case = ignore_case

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Compute the ratio on whitespace-collapsed texts."""
        options = {"ignore_case": self.ignore_case, "ignore_punctuation": False, "collapse": True}
        a = _normalise(output.text, **options)
        b = _normalise(str(self._expected(self.expected, case)), **options)
        ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        ok = ratio >= self.threshold
        return GradeResult(passed=ok, score=ratio, reason=f"similarity {ratio:.2f}")


def extract_json(output: Output) -> Any:
    """The JSON value in an output: the parsed structured output, else the text (code
    fences and prose around one object or array are tolerated). Raises ``ValueError``."""
    if output.parsed is not None:
        parsed = output.parsed
        dump = getattr(parsed, "model_dump", None)
        return dump(mode="json") if callable(dump) else parsed
    text = output.text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fence:
        text = fence.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if start < 0:
            raise ValueError("no JSON in the output") from None
        try:
            value, _ = json.JSONDecoder().raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc.msg}") from None
        return value


class JSONSchema(_Base):
    """The output is JSON valid against a JSON Schema dict or a pydantic model class."""

    def __init__(
        self,
        schema: Mapping[str, Any] | type[Any],
        *,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        super().__init__(name=name or "json_schema", weight=weight, required=required)
        self.schema = schema
        self._check: Callable[[Any], list[str]]
        if isinstance(schema, type):
            self._check = _pydantic_check(schema)
        elif isinstance(schema, Mapping):
            self._check = compile_schema(schema)
        else:
            raise ConfigurationError("JSONSchema takes a JSON Schema dict or a pydantic model")

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Parse the JSON and validate it."""
        try:
            value = extract_json(output)
        except ValueError as exc:
            return GradeResult(passed=False, score=0.0, reason=str(exc))
        problems = self._check(value)
        reason = "valid" if not problems else "; ".join(problems[:5])
        return GradeResult(passed=not problems, score=float(not problems), reason=reason)


def _pydantic_check(model: type[Any]) -> Callable[[Any], list[str]]:
    validate = getattr(model, "model_validate", None)
    if validate is None:
        raise ConfigurationError(f"{model.__name__} is not a pydantic model")

    def check(value: Any) -> list[str]:
        from pydantic import ValidationError

        try:
            validate(value)
        except ValidationError as exc:
            return [f"{'.'.join(map(str, e['loc'])) or '$'}: {e['msg']}" for e in exc.errors()]
        return []

    return check


class JSONFields(_Base):
    """Selected fields of the output's JSON equal the expected ones.

    ``fields`` are dotted paths (``"customer.tier"``, ``"items.0.sku"``); by default
    every key of the expected object. The score is the share of fields that match.
    """

    def __init__(
        self,
        expected: Mapping[str, Any] | Any = _MISSING,
        *,
        fields: Sequence[str] | None = None,
        ignore_case: bool = False,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        super().__init__(name=name or "json_fields", weight=weight, required=required)
        self.expected = expected
        self.fields = list(fields) if fields is not None else None
        self.ignore_case = ignore_case

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Compare field by field."""
        expected = self._expected(self.expected, case)
        try:
            got = extract_json(output)
        except ValueError as exc:
            return GradeResult(passed=False, score=0.0, reason=str(exc))
        paths = self.fields if self.fields is not None else _leaf_paths(expected)
        if not paths:
            return GradeResult(passed=False, reason="no fields to compare")
        wrong = []
        for path in paths:
            want, have = _get(expected, path), _get(got, path)
            if self.ignore_case and isinstance(want, str) and isinstance(have, str):
                want, have = want.casefold(), have.casefold()
            if want != have:
                wrong.append(f"{path}: expected {_short(want, 30)}, got {_short(have, 30)}")
        score = 1 - len(wrong) / len(paths)
        reason = f"{len(paths) - len(wrong)}/{len(paths)} fields match" + (
            "; " + "; ".join(wrong[:3]) if wrong else ""
        )
        return GradeResult(passed=not wrong, score=score, reason=reason)


def _leaf_paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, Mapping) and value:
        out: list[str] = []
        for key, item in value.items():
            out += _leaf_paths(item, f"{prefix}{key}.")
        return out
    return [prefix[:-1]] if prefix else []


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return "<missing>"
        if value is _MISSING:
            return "<missing>"
    return value


class ToolCallMatch(_Base):
    """The model called the expected tool with the expected arguments.

    ``expected`` (or the case's) is ``{"name": ..., "arguments": {...}}`` or a list of
    them (all must be called). With ``partial=True`` (default) the expected arguments
    must be a subset of the actual ones; with ``False`` they must be equal.
    """

    def __init__(
        self,
        expected: Mapping[str, Any] | Sequence[Mapping[str, Any]] | Any = _MISSING,
        *,
        partial: bool = True,
        name: str | None = None,
        weight: float = 1.0,
        required: bool = True,
    ) -> None:
        super().__init__(name=name or "tool_call", weight=weight, required=required)
        self.expected = expected
        self.partial = partial

    def __call__(self, output: Output, case: Case, /) -> GradeResult:
        """Look for each expected call among the output's tool calls."""
        expected = self._expected(self.expected, case)
        wanted = [expected] if isinstance(expected, Mapping) else list(expected or ())
        if not wanted:
            return GradeResult(passed=False, reason="no expected tool call")
        missing = [w for w in wanted if not any(self._matches(w, c) for c in output.tool_calls)]
        called = ", ".join(str(c.get("name")) for c in output.tool_calls) or "no tool"
        ok = not missing
        reason = (
            f"called {called}"
            if ok
            else f"expected {_short([dict(m) for m in missing])}, model called {called}"
        )
        return GradeResult(passed=ok, score=1 - len(missing) / len(wanted), reason=reason)

    def _matches(self, want: Mapping[str, Any], call: Mapping[str, Any]) -> bool:
        if want.get("name") != call.get("name"):
            return False
        args: Mapping[str, Any] = want.get("arguments") or {}
        got: Mapping[str, Any] = call.get("arguments") or {}
        if self.partial:
            return all(k in got and got[k] == v for k, v in args.items())
        return dict(args) == dict(got)


class Check(_Base):
    """Any Python callable ``fn(output, case)`` returning ``GradeResult``, ``bool`` or a
    float in [0, 1]. Bump ``version`` when you change what it does, so cached grades and
    case pairings are refreshed."""

    def __init__(
        self,
        fn: Callable[[Output, Case], Any],
        *,
        name: str | None = None,
        version: str = "1",
        weight: float = 1.0,
        required: bool = True,
        cacheable: bool = False,
    ) -> None:
        super().__init__(
            name=name or getattr(fn, "__name__", "check"), weight=weight, required=required
        )
        self._fn = fn
        self.version = version
        self.cacheable = cacheable
        self.callable = getattr(fn, "__qualname__", repr(fn))

    def __call__(self, output: Output, case: Case, /) -> GradeResult | Awaitable[GradeResult]:
        """Call the function and coerce its result (awaiting it if it is a coroutine)."""
        value = self._fn(output, case)
        if inspect.isawaitable(value):
            return _await_grade(value)
        return to_grade(value)


async def _await_grade(value: Awaitable[Any]) -> GradeResult:
    return to_grade(await value)
