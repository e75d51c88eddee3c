"""The PII state of one call: counts, placeholder numbers and the pseudonym map.

Everything a call learns about its PII values lives in one :class:`Session` object
that the pipeline drops when the call ends; nothing here is global or persisted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._detector import resolve_overlaps
from ._placeholders import PSEUDONYM, REDACT, placeholder, placeholder_rx, pseudonym_rx

if TYPE_CHECKING:
    from ._base import Detector, Span, StreamRestorer

__all__ = ["Session"]

# A detector that matches its own placeholders would loop forever; real texts settle
# in one or two passes (a second pass only sees values the first one uncovered).
_MAX_PASSES = 16


class Session:
    """PII state for one call under one policy (see :class:`thinllm.pii.PIISession`).

    ``send`` is how outgoing text is changed: ``None`` (sent unchanged, only counted),
    ``REDACT`` (``[EMAIL_1]``) or ``PSEUDONYM`` (``<EMAIL_1>``, restored in the reply).
    Texts for sinks always get placeholders: pseudonyms under ``Pseudonymize()`` (so the
    record matches what the vendor saw), ``[EMAIL_1]`` otherwise.
    """

    def __init__(
        self,
        detector: Detector,
        action: str,
        routes: tuple[str, ...] = (),
        *,
        send: str | None = None,
    ) -> None:
        self.action = action
        self.routes = routes
        #: Entity type -> number of distinct values found so far in outgoing texts.
        self.counts: dict[str, int] = {}
        self._detect = detector
        self._send = send
        self._store = PSEUDONYM if send == PSEUDONYM else REDACT
        self._numbers: dict[tuple[str, str], int] = {}
        self._next: dict[str, int] = {}
        self._reserved: set[tuple[str, int]] = set()
        self._counted: set[tuple[str, str]] = set()
        #: "EMAIL_1" -> the original value; what restore() puts back.
        self._values: dict[str, str] = {}
        self._known: re.Pattern[str] | None = None
        self._known_size = 0
        self._entity_of: dict[str, str] = {}

    def __repr__(self) -> str:
        # Counts only: the values and the pseudonym map must never reach a log.
        return f"<pii session {self.action} counts={self.counts}>"

    def outgoing(self, text: str, /) -> str:
        """The text as it may be sent under this policy; counts the values it finds."""
        if self._send is None:
            for span in self._spans(text):
                self._count(span.entity, text[span.start : span.end])
            return text
        return self._replace(text, self._send, count=True)

    def record(self, text: str, /) -> str:
        """The text with every PII value (detected or already known) as a placeholder."""
        return self._replace(text, self._store, count=False)

    def restore(self, text: str, /) -> str:
        """The model's text with this call's pseudonyms replaced by the original values."""
        if not self._values or "<" not in text:
            return text
        values = self._values
        return pseudonym_rx().sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def restorer(self) -> StreamRestorer:
        """A restorer for one stream of deltas (pass-through unless pseudonymizing)."""
        from ._restore import PassThrough, PseudonymRestorer

        if self._send == PSEUDONYM:
            return PseudonymRestorer(self)
        return PassThrough()

    def could_start_pseudonym(self, tail: str) -> bool:
        """Whether ``tail`` (from a ``<`` on) may grow into one of this call's pseudonyms."""
        return ">" not in tail and any(f"<{key}>".startswith(tail) for key in self._values)

    # -- internals ---------------------------------------------------------------------

    def _spans(self, text: str) -> list[Span]:
        n = len(text)
        # A custom detector's spans are trusted for type, not for bounds.
        spans = [s for s in self._detect(text) if 0 <= s.start < s.end <= n]
        if self._numbers:
            spans.extend(self._known_spans(text))
        if not spans:
            return spans
        if ("[" in text or "<" in text) and "_" in text:
            marks = [(m.start(), m.end()) for m in placeholder_rx().finditer(text)]
            if marks:
                spans = [s for s in spans if not any(s.start < e and b < s.end for b, e in marks)]
        return resolve_overlaps(spans)

    def _known_spans(self, text: str) -> list[Span]:
        """Every verbatim occurrence of a value this call already replaced elsewhere."""
        from ._base import Span

        if self._known is None or self._known_size != len(self._numbers):
            by_length = sorted({v for _, v in self._numbers}, key=len, reverse=True)
            self._known = re.compile("|".join(re.escape(v) for v in by_length))
            self._known_size = len(self._numbers)
            self._entity_of = {v: e for e, v in reversed(list(self._numbers))}
        return [
            Span(self._entity_of[m.group(0)], m.start(), m.end(), 2.0)
            for m in self._known.finditer(text)
        ]

    def _replace(self, text: str, style: str, *, count: bool) -> str:
        self._reserve(text)
        for _ in range(_MAX_PASSES):
            spans = self._spans(text)
            if not spans:
                break
            parts: list[str] = []
            last = 0
            for span in spans:
                value = text[span.start : span.end]
                if count:
                    self._count(span.entity, value)
                parts.append(text[last : span.start])
                parts.append(placeholder(span.entity, self._number(span.entity, value), style))
                last = span.end
            parts.append(text[last:])
            text = "".join(parts)
        return text

    def _reserve(self, text: str) -> None:
        # A placeholder the caller wrote themselves keeps its meaning: never hand out its
        # number, so restore() cannot turn the caller's literal "<EMAIL_1>" into a value.
        if ("[" in text or "<" in text) and "_" in text:
            for m in placeholder_rx().finditer(text):
                self._reserved.add((m.group(1), int(m.group(2))))

    def _number(self, entity: str, value: str) -> int:
        key = (entity, value)
        number = self._numbers.get(key)
        if number is None:
            number = self._next.get(entity, 0) + 1
            while (entity, number) in self._reserved:
                number += 1
            self._next[entity] = number
            self._numbers[key] = number
            if self._send == PSEUDONYM:
                self._values[f"{entity}_{number}"] = value
        return number

    def _count(self, entity: str, value: str) -> None:
        key = (entity, value)
        if key not in self._counted:
            self._counted.add(key)
            self.counts[entity] = self.counts.get(entity, 0) + 1
