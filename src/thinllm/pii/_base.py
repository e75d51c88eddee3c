"""The contracts between the call pipeline and PII handling.

The pipeline knows only these shapes: a policy opens one :class:`PIISession` per call;
every outgoing text goes through ``session.outgoing``; every text recorded in a sink
goes through ``session.record``; the model's reply goes through ``session.restore``
(or a :class:`StreamRestorer` for streamed deltas).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .._tags import Tags

__all__ = ["Detector", "PIIPolicy", "PIISession", "Span", "StreamRestorer"]


@dataclass(frozen=True, slots=True)
class Span:
    """One detected entity: ``text[start:end]`` is a value of type ``entity``."""

    entity: str
    start: int
    end: int
    score: float = 1.0


# The built-in detector makes a Span per finding, and a frozen dataclass's ``__init__``
# sets each field with ``object.__setattr__`` (to get past the frozen ``__setattr__``):
# that costs as much as checking a card number's Luhn digit. Setting the four slots
# through their descriptors builds the same object in about 60% of the time.
def _slot_setter(name: str) -> Callable[[Span, object], None]:
    setter: Callable[[Span, object], None] = vars(Span)[name].__set__
    return setter


_SET_ENTITY, _SET_START, _SET_END, _SET_SCORE = map(
    _slot_setter, ("entity", "start", "end", "score")
)


def new_span(entity: str, start: int, end: int, score: float) -> Span:
    """``Span(entity, start, end, score)``, built without the dataclass ``__init__``."""
    span = object.__new__(Span)
    _SET_ENTITY(span, entity)
    _SET_START(span, start)
    _SET_END(span, end)
    _SET_SCORE(span, score)
    return span


@runtime_checkable
class Detector(Protocol):
    """Finds PII in a text. Any callable ``text -> list[Span]`` qualifies."""

    def __call__(self, text: str, /) -> list[Span]:
        """Spans of PII in ``text``, in any order; overlaps are resolved by the caller."""


class StreamRestorer(Protocol):
    """Restores pseudonyms in streamed text, holding back a placeholder split across chunks."""

    def feed(self, delta: str, /) -> str:
        """Restored text that is safe to emit now (may be shorter than ``delta``)."""

    def flush(self) -> str:
        """Whatever is still held back, restored; call once at the end of the stream."""


class PIISession(Protocol):
    """PII state for one call. The pseudonym map lives here and nowhere else."""

    #: Entity type -> number of values found so far in outgoing texts.
    counts: dict[str, int]
    #: The action this call takes (``"redact"``, ``"pseudonymize"``, ``"route"``,
    #: ``"block"`` or ``"detect"``); read it here, since ``ByTag`` decides per call.
    action: str
    #: For ``"route"``: the names of the routes this call may use.
    routes: tuple[str, ...]

    def outgoing(self, text: str, /) -> str:
        """The text as it may be sent to the vendor under this policy (counts what it finds)."""

    def record(self, text: str, /) -> str:
        """The text as it may be stored in a sink: never contains a PII value."""

    def restore(self, text: str, /) -> str:
        """The model's text with pseudonyms replaced by the original values."""

    def restorer(self) -> StreamRestorer:
        """A fresh restorer for one stream of deltas."""


class PIIPolicy(Protocol):
    """What to do with PII: ``Redact()``, ``Pseudonymize()``, ``RouteTo(...)``, ``Block()``."""

    #: ``"redact"``, ``"pseudonymize"``, ``"route"``, ``"block"`` or ``"detect"``.
    action: str
    #: For ``"route"``: the names of the routes a call containing PII may use.
    routes: tuple[str, ...]

    def session(self, tags: Tags, /) -> PIISession:
        """Open the PII state for one call with these tags."""
