"""Events that cannot be written as UTF-8, made writable.

Python strings may hold lone surrogates (``json.loads('"\\\\ud800"')``, or bytes decoded
with ``errors="surrogateescape"``), and a prompt or tag carrying one reaches the
vendor fine (the SDKs send JSON with ASCII escapes) but cannot be encoded as UTF-8 for
a store. Losing the audit record of a call over one bad character would be worse than
changing that character, so the sinks fall back to :func:`repaired` when encoding
fails: the happy path pays nothing.
"""

from __future__ import annotations

from typing import Any

from thinllm._events import CallEvent

__all__ = ["repaired"]


def repaired(event: CallEvent) -> CallEvent:
    """``event`` with every lone surrogate replaced by U+FFFD (a valid pair is joined)."""
    return CallEvent.from_dict(_clean(event.to_dict()))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        # utf-16 with surrogatepass turns a well-formed surrogate pair into its character
        # and anything unpaired into U+FFFD on the way back.
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    return value
