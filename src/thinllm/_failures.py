"""Classify a vendor error: retry it here, move to the next route, or stop.

Both SDKs raise the same shapes (``APIStatusError`` with ``status_code``, ``response``
and ``body``; ``APITimeoutError``; ``APIConnectionError``), so one duck-typed classifier
serves every route without importing either SDK.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["EmptyStreamError", "Failure", "classify"]

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


class EmptyStreamError(Exception):
    """A streamed response that ended without a single event (a body that was not a stream).

    Raised by the stream opener so the failure is classified like a malformed body:
    another route may do better, this one will not.
    """


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
    """A :class:`Failure` for a vendor/transport error; ``None`` for anything else.

    Only exceptions raised by the vendor SDK call reach here, so a JSON decoding error
    means the response body was malformed (the SDKs let ``json.JSONDecodeError``
    escape unwrapped when a 200 body is not JSON).
    """
    if isinstance(exc, json.JSONDecodeError | EmptyStreamError):
        return Failure(None, "malformed_response", False, True, None, _first_line(exc))
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
    response = getattr(exc, "response", None)
    retry_after = _retry_after(response)
    should_retry = _should_retry(response)
    if should_retry is not None and status not in (400, 422):
        # The vendor's explicit instruction (``x-should-retry``) wins, as in both SDKs;
        # a "no" still lets another route try.
        return Failure(status, error_type, should_retry, True, retry_after, message)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _should_retry(response: Any) -> bool | None:
    """The ``x-should-retry`` header as a bool, or ``None`` when absent or unclear."""
    headers = getattr(response, "headers", None)
    value = headers.get("x-should-retry") if headers is not None else None
    if value == "true":
        return True
    if value == "false":
        return False
    return None


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
        pass
    import email.utils

    try:
        # An HTTP date; an unreadable header is ignored (the backoff applies instead).
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, parsed.timestamp() - time.time())
