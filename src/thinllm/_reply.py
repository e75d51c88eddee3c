"""What a call returns: the normalized :class:`Reply`, its :class:`Usage` and attempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ._frozen import draft_of, new
from ._prompt import ToolCall

__all__ = ["Attempt", "Outcome", "Reply", "Usage", "new_attempt", "new_usage", "to_micros"]

Outcome = Literal["ok", "rerouted", "fallback", "disabled", "blocked", "error"]


def to_micros(ms: float) -> float:
    """``ms`` to the microsecond: ``round(ms, 3)``, without its decimal-string round trip.

    ``round(x, 3)`` formats and re-parses the float (dtoa, printf, strtod: code the
    call path touches nowhere else, so cold in the CPU cache after a vendor call);
    rounding the count of microseconds is one float operation. The two differ only on
    exact binary ties, which a latency never cares about.
    """
    return round(ms * 1000.0) / 1000.0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, normalized across vendors.

    ``input_tokens`` counts *all* input tokens; ``cache_read_tokens`` and
    ``cache_write_tokens`` are the parts of it read from / written to the prompt cache
    (the OpenTelemetry GenAI meaning).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    #: Cache writes billed at the 1-hour rate (a subset of ``cache_write_tokens``).
    cache_write_1h_tokens: int = 0

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the plain input rate."""
        return max(0, self.input_tokens - self.cache_read_tokens - self.cache_write_tokens)

    @property
    def cache_hit_ratio(self) -> float:
        """Share of input tokens served from the cache (0.0 when there was no input)."""
        return self.cache_read_tokens / self.input_tokens if self.input_tokens else 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_write_1h_tokens + other.cache_write_1h_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        """The four contract counts, as stored in audit events."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
        }


ZERO_USAGE = Usage()
_UsageDraft = draft_of(Usage)


def new_usage(
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    cache_write_1h_tokens: int = 0,
) -> Usage:
    """``Usage(...)`` for the per-call path, built through a draft (see ``_frozen``)."""
    u: Any = new(_UsageDraft)
    u.input_tokens = input_tokens
    u.output_tokens = output_tokens
    u.cache_read_tokens = cache_read_tokens
    u.cache_write_tokens = cache_write_tokens
    u.cache_write_1h_tokens = cache_write_1h_tokens
    u.__class__ = Usage
    return u  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one route (or a route skipped without a try).

    ``status`` is the HTTP status (``None`` for connection errors, timeouts and skips);
    ``error`` the error type (``None`` on success); ``skipped`` why the route was not
    tried (``"circuit open"``, ``"pii route policy"``, ``"deadline"``), in which case the
    vendor was not contacted.
    """

    route: str
    model: str
    status: int | None
    error: str | None
    latency_ms: float
    skipped: str | None = None
    #: The vendor's error message, after PII scrubbing (never an API key).
    message: str | None = None

    @property
    def ok(self) -> bool:
        """Whether this attempt got an answer."""
        return self.error is None and self.skipped is None

    def as_dict(self) -> dict[str, Any]:
        """The stored form (``attempts`` in the audit event)."""
        out: dict[str, Any] = {
            "route": self.route,
            "model": self.model,
            "status": self.status,
            "error": self.error,
            "latency_ms": to_micros(self.latency_ms),
        }
        if self.skipped is not None:
            out["skipped"] = self.skipped
        return out


_AttemptDraft = draft_of(Attempt)


def new_attempt(
    route: str,
    model: str,
    status: int | None,
    error: str | None,
    latency_ms: float,
    skipped: str | None = None,
    message: str | None = None,
) -> Attempt:
    """``Attempt(...)`` for the per-call path, built through a draft (see ``_frozen``)."""
    a: Any = new(_AttemptDraft)
    a.route = route
    a.model = model
    a.status = status
    a.error = error
    a.latency_ms = latency_ms
    a.skipped = skipped
    a.message = message
    a.__class__ = Attempt
    return a  # type: ignore[no-any-return]


@dataclass(slots=True, eq=False)
class Reply:
    """The normalized result of one governed call.

    ``value`` is what the caller should use: the text, the parsed structured output
    when ``output=`` was given, or what the fallback returned.
    """

    text: str
    usage: Usage
    cost: Decimal | None
    route: str | None
    outcome: Outcome
    attempts: list[Attempt]
    call_id: str
    raw: Any = None
    value: Any = None
    parsed: Any = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    model: str | None = None
    finish_reason: str | None = None

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:59] + "…"
        cost = f"${self.cost:.6f}" if self.cost is not None else "unpriced"
        u = self.usage
        return (
            f"<Reply {self.outcome} route={self.route!r} text={text!r} "
            f"tokens={u.input_tokens}in/{u.output_tokens}out cache_read={u.cache_read_tokens} "
            f"cost={cost} attempts={len(self.attempts)}>"
        )
