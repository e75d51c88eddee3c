"""Scripted failures: what can go wrong between a client and a vendor.

A :class:`Fault` is vendor-neutral; the wire modules translate it into the status,
error type and headers the real vendor sends, so the SDKs raise their own exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Fault", "FaultKind"]

FaultKind = Literal[
    "rate_limited",
    "overloaded",
    "server_error",
    "bad_request",
    "not_found",
    "unauthorized",
    "context_too_long",
    "timeout",
    "connection_reset",
    "malformed",
    "slow",
    "stream_cut",
]


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted failure; build it with the class methods (``Fault.rate_limited()``)."""

    kind: FaultKind
    status: int | None = None
    message: str | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    seconds: float = 0.0
    after_chunks: int = 0

    @classmethod
    def rate_limited(
        cls, retry_after: float | None = None, retry_after_ms: int | None = None
    ) -> Fault:
        """429 with the vendor's rate-limit error and optional ``retry-after(-ms)`` headers."""
        return cls("rate_limited", 429, retry_after=retry_after, retry_after_ms=retry_after_ms)

    @classmethod
    def overloaded(cls) -> Fault:
        """Anthropic 529 ``overloaded_error``; OpenAI 503."""
        return cls("overloaded")

    @classmethod
    def server_error(cls, status: Literal[500, 502, 503, 504] = 500) -> Fault:
        """A 5xx server error with the given status."""
        if status not in (500, 502, 503, 504):
            raise ValueError(f"server_error status must be 500, 502, 503 or 504, not {status}")
        return cls("server_error", status)

    @classmethod
    def bad_request(cls, message: str = "Invalid request.") -> Fault:
        """400 ``invalid_request_error`` with ``message``."""
        return cls("bad_request", 400, message=message)

    @classmethod
    def not_found(cls) -> Fault:
        """404: the requested model does not exist."""
        return cls("not_found", 404)

    @classmethod
    def unauthorized(cls) -> Fault:
        """401: the API key was rejected."""
        return cls("unauthorized", 401)

    @classmethod
    def context_too_long(cls) -> Fault:
        """400 with the vendor's real context-length error type and code."""
        return cls("context_too_long", 400)

    @classmethod
    def timeout(cls) -> Fault:
        """No answer in time: ``httpx2.ReadTimeout`` in process, a stalled socket in server mode."""
        return cls("timeout")

    @classmethod
    def connection_reset(cls) -> Fault:
        """The connection drops before any response (``httpx2.RemoteProtocolError``)."""
        return cls("connection_reset")

    @classmethod
    def malformed(cls) -> Fault:
        """200 with a body that is not valid JSON."""
        return cls("malformed", 200)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` more, then answer normally."""
        return cls("slow", seconds=seconds)

    @classmethod
    def stream_cut(cls, after_chunks: int = 1) -> Fault:
        """A stream that sends ``after_chunks`` text deltas, then breaks the connection.

        A non-streaming request with this fault gets its connection dropped.
        """
        return cls("stream_cut", after_chunks=after_chunks)
