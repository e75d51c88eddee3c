"""Classify a vendor error: retry it here, move to the next route, or stop.

Both SDKs raise the same shapes (``APIStatusError`` with ``status_code``, ``response``
and ``body``; ``APITimeoutError``; ``APIConnectionError``), so one duck-typed classifier
serves every route without importing either SDK.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Failure", "classify"]

#: Statuses worth retrying on the same route (and moving on from once retries run out).
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
#: Statuses a different route could fix, though retrying this one would not.
REROUTABLE = frozenset({401, 403, 404, 413})
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "context length",
    "prompt is too long",
    "too many tokens",
    "maximum context",
    "request_too_large",
)


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong with one attempt, and what to do about it."""

    status: int | None
    error_type: str
    retryable: bool
    reroutable: bool
    retry_after: float | None
    message: str


def classify(exc: BaseException) -> Failure | None:
    """A :class:`Failure` for a vendor/transport error; ``None`` for anything else."""
    module = type(exc).__module__.split(".", 1)[0]
    if module not in ("anthropic", "openai", "httpx2", "httpx"):
        return None
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    message = str(getattr(exc, "message", None) or exc)
    if status is None:
        if "Timeout" in name:
            return Failure(None, "timeout", True, True, None, message)
        if "Connection" in name or module.startswith("httpx"):
            return Failure(None, "connection_error", True, True, None, message)
        # A response the SDK could not parse (malformed body): another route may do better.
        return Failure(None, "malformed_response", False, True, None, message)
    error_type = _error_type(exc) or f"http_{status}"
    retry_after = _retry_after(getattr(exc, "response", None))
    if status in RETRYABLE:
        return Failure(status, error_type, True, True, retry_after, message)
    if status in REROUTABLE:
        return Failure(status, error_type, False, True, None, message)
    if status in (400, 422):
        lowered = (message + " " + error_type).lower()
        too_big = any(marker in lowered for marker in _CONTEXT_MARKERS)
        return Failure(status, error_type, False, too_big, None, message)
    if status >= 500:
        return Failure(status, error_type, True, True, retry_after, message)
    return Failure(status, error_type, False, False, None, message)


def _error_type(exc: BaseException) -> str | None:
    body: Any = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("code", "type"):
                value = inner.get(key)
                if isinstance(value, str) and value:
                    return value
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code else None


def _retry_after(response: Any) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``retry-after``)."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        import email.utils

        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())
