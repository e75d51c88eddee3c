"""The built-in detector: built-in entities, custom ones, allow-lists and overlap rules."""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import ConfigurationError
from ._base import Detector, Span
from ._entities import BUILTIN_ENTITIES, find_builtin
from ._placeholders import placeholder_rx, valid_entity_name

__all__ = ["BuiltinDetector", "Pattern", "resolve_overlaps"]


@dataclass(frozen=True)
class Pattern:
    """A custom entity found by a regex, e.g. ``Pattern("EMPLOYEE_ID", r"EMP-\\d{6}")``.

    ``validate`` (optional) receives each matched value and returns whether it counts,
    the way a checksum keeps a built-in entity precise. The regex compiles on first use.
    """

    entity: str
    regex: str
    score: float = 1.0
    flags: int = 0
    validate: Callable[[str], bool] | None = None
    _compiled: list[re.Pattern[str]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _check_entity_name(self.entity)
        try:
            re.compile(self.regex, self.flags)
        except re.error as exc:
            raise ConfigurationError(
                f"Pattern({self.entity!r}, ...): the regex does not compile: {exc}"
            ) from exc

    def __call__(self, text: str, /) -> list[Span]:
        """Spans of this entity in ``text``."""
        if not self._compiled:
            self._compiled.append(re.compile(self.regex, self.flags))
        return [
            Span(self.entity, m.start(), m.end(), self.score)
            for m in self._compiled[0].finditer(text)
            if m.end() > m.start() and (self.validate is None or self.validate(m.group(0)))
        ]


def _check_entity_name(entity: str) -> None:
    if not valid_entity_name(entity):
        raise ConfigurationError(
            f"entity name {entity!r} must be upper case letters, digits and underscores "
            "starting with a letter (e.g. 'EMPLOYEE_ID'), so its placeholders stay recognisable"
        )


class BuiltinDetector:
    """Fast, dependency-free PII detection: regex candidates confirmed by validators.

    ``entities`` limits the built-in types (default: all of ``EMAIL``, ``PHONE``,
    ``CREDIT_CARD``, ``IBAN``, ``US_SSN``, ``IP_ADDRESS``, ``SECRET``). ``custom`` adds
    :class:`Pattern` objects or any detector callable. ``allow`` lists values that are
    never reported: exact strings (compared case-insensitively, e.g. the company's own
    support address) or compiled regexes that must match the whole value.

    Calling it returns non-overlapping spans sorted by position; where candidates
    overlap the longest wins, then the highest score, then the earliest.
    """

    def __init__(
        self,
        entities: Iterable[str] | None = None,
        custom: Iterable[Detector] = (),
        allow: Iterable[str | re.Pattern[str]] = (),
    ) -> None:
        if entities is None:
            wanted = frozenset(BUILTIN_ENTITIES)
        else:
            wanted = frozenset(entities)
            unknown = sorted(wanted - set(BUILTIN_ENTITIES))
            if unknown:
                raise ConfigurationError(
                    f"unknown built-in PII entities {unknown}; choose from "
                    f"{list(BUILTIN_ENTITIES)} or add your own with custom=[Pattern(...)]"
                )
        self.entities: frozenset[str] = wanted
        self.custom: tuple[Detector, ...] = tuple(custom)
        for detector in self.custom:
            if not callable(detector):
                raise ConfigurationError(f"custom detector {detector!r} is not callable")
        exact: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for item in allow:
            if isinstance(item, re.Pattern):
                patterns.append(item)
            elif isinstance(item, str):
                exact.add(item.casefold())
            else:
                raise ConfigurationError(
                    f"allow-list items are strings or compiled regexes, got {type(item).__name__}"
                )
        self._allow_exact = frozenset(exact)
        self._allow_rx = tuple(patterns)

    def __call__(self, text: str, /) -> list[Span]:
        """Non-overlapping PII spans in ``text``, sorted by start."""
        spans: list[Span] = []
        find_builtin(text, self.entities, spans)
        for detector in self.custom:
            spans.extend(detector(text))
        if not spans:
            return spans
        if self._allow_exact or self._allow_rx:
            spans = [s for s in spans if not self._allowed(text[s.start : s.end])]
        if ("[" in text or "<" in text) and "_" in text:
            spans = _outside_placeholders(text, spans)
        return resolve_overlaps(spans)

    def _allowed(self, value: str) -> bool:
        if value.casefold() in self._allow_exact:
            return True
        return any(rx.fullmatch(value) for rx in self._allow_rx)

    def __repr__(self) -> str:
        return f"BuiltinDetector(entities={sorted(self.entities)}, custom={list(self.custom)})"


def _outside_placeholders(text: str, spans: list[Span]) -> list[Span]:
    """Drop spans touching a placeholder: ``[EMAIL_1]`` is never PII (idempotent redaction)."""
    marks = [(m.start(), m.end()) for m in placeholder_rx().finditer(text)]
    if not marks:
        return spans
    return [s for s in spans if not any(s.start < e and b < s.end for b, e in marks)]


_BY_POSITION = operator.attrgetter("start", "end")  # a C-level sort key


def _disjoint(ordered: list[Span]) -> bool:
    """Whether spans sorted by position are all non-empty and none overlaps the next."""
    end = -1
    for span in ordered:
        if span.start < end or span.end <= span.start:
            return False
        end = span.end
    return True


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep non-overlapping spans: longest first, then highest score, then earliest."""
    ordered = sorted(spans, key=_BY_POSITION)
    if _disjoint(ordered):
        return ordered  # the common case: nothing overlaps
    ranked = sorted(ordered, key=lambda s: (s.start - s.end, -s.score, s.start, s.entity))
    # Kept spans never overlap, so sorted by start they are sorted by end too: one
    # bisection finds the only two neighbours a new span could collide with.
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Span] = []
    for span in ranked:
        if span.end <= span.start:
            continue
        i = bisect.bisect_left(starts, span.start)
        if (i > 0 and ends[i - 1] > span.start) or (i < len(starts) and starts[i] < span.end):
            continue
        starts.insert(i, span.start)
        ends.insert(i, span.end)
        kept.insert(i, span)
    return kept
