"""One call's state as it flows through the pipeline, and the audit event it becomes."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from ._events import CallEvent, EventDraft
from ._frozen import new
from ._prompt import Text, ToolCall, ToolResult, map_json_strings
from ._reply import ZERO_USAGE, Attempt, new_attempt, to_micros

if TYPE_CHECKING:
    from ._prompt import Prompt
    from ._retry import Retry
    from ._route import Route
    from ._tags import Tags
    from .pii._base import PIISession
    from .providers import OutputSpec, Parsed

__all__ = ["Call", "new_call", "new_call_id"]

CAPTURE_MODES = ("full", "redacted", "hash", "none")


def new_call_id() -> str:
    """A unique random call id (128 bits, hex)."""
    return os.urandom(16).hex()


@dataclass(slots=True, eq=False)
class Call:
    """Mutable state of one call. Built by the client, consumed by one event."""

    prompt: Prompt | None
    tags: Tags
    options: dict[str, Any]
    routes: list[Route]
    retry: Retry | None
    started: float
    call_id: str = field(default_factory=new_call_id)
    output: OutputSpec | None = None
    deadline_at: float | None = None
    sent_prompt: Prompt | None = None
    pii: PIISession | None = None
    pii_action: str | None = None
    pii_routes: tuple[str, ...] | None = None
    pii_policy_routes: tuple[str, ...] = ()
    flag: str | None = None
    rendered: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    stream: bool = False
    operation: str = "chat"
    batch: bool = False
    #: Native-wrap calls: the request as the caller wrote it (already PII-handled).
    native_request: dict[str, Any] | None = None
    #: Hash of the static prefix; computed from ``prompt`` unless set (native calls).
    prompt_hash: str | None = None
    #: Async calls: the event is held here by ``_emit`` and awaited by the caller, so a
    #: durable sink's commit never blocks the event loop.
    deferred: bool = False
    held: Any = None

    def attempt(
        self,
        route: Route,
        *,
        status: int | None,
        error: str | None,
        latency: float,
        skipped: str | None = None,
        message: str | None = None,
    ) -> None:
        """Record one try (or skip) of ``route``."""
        if message is not None:
            message = self.scrub(message)
        self.attempts.append(
            new_attempt(route.name, route.model, status, error, latency * 1000.0, skipped, message)
        )

    def scrub(self, text: str) -> str:
        """``text`` without PII or secrets: the call's PII session, else the default scrub.

        Vendor error messages can echo the prompt, so they are never recorded as is.
        """
        if self.pii is not None:
            return self.pii.record(text)
        return _scrubbers()[0](text)

    def event(
        self,
        *,
        ended: float,
        outcome: str,
        route: Route | None,
        parsed: Parsed | None,
        cost: Decimal | None,
        error: BaseException | None,
        capture: str,
        value_text: str | None = None,
    ) -> CallEvent:
        """The audit event for this call (PII and secrets already removed).

        Built through a draft (plain slot stores, see ``_frozen`` for why); every field
        is set. The error text is scrubbed before the PII counts are read and the
        content is captured last, as the PII session's counts depend on that order.
        """
        err = None
        if error is not None:
            err_type = getattr(error, "error_type", None) or type(error).__name__
            err = {"type": err_type, "message": self.scrub(str(error))}
        e: Any = new(EventDraft)
        e.call_id = self.call_id
        e.ts = _iso(self.started)
        e.latency_ms = to_micros((ended - self.started) * 1000.0)
        e.tags = self.tags.as_dict()
        e.outcome = outcome
        model = parsed.model if parsed is not None else None
        region = parsed.region if parsed is not None else None
        if route is not None:
            e.route = route.name
            e.provider = route.provider
            e.model = model or route.model
            e.region = region or route.region
        else:
            e.route = e.provider = None
            e.model = model or None
            e.region = region or None
        e.operation = self.operation
        e.stream = self.stream
        e.batch = self.batch
        attempts = self.attempts
        if len(attempts) == 1:  # the usual call: skip the comprehension's frame
            e.attempts = (attempts[0].as_dict(),)
        else:
            e.attempts = tuple([a.as_dict() for a in attempts])
        if parsed is not None:
            e.usage = parsed.usage.as_dict()
            e.finish_reason = parsed.finish_reason
            e.response_id = parsed.response_id
        else:
            e.usage = ZERO_USAGE.as_dict()
            e.finish_reason = e.response_id = None
        e.cost_usd = str(cost) if cost is not None else None
        e.options = _safe_options(self.options, self.scrub)
        e.pii = dict(self.pii.counts) if self.pii is not None else {}
        e.pii_action = self.pii_action
        e.flag = self.flag
        e.error = err
        e.prompt_hash = self.prompt_hash or (
            self.prompt.static_hash() if self.prompt is not None else None
        )
        e.content = self._content(capture, parsed, value_text)
        e.prev_hash = e.hash = None
        e.__class__ = CallEvent
        return e  # type: ignore[no-any-return]

    def _content(self, capture: str, parsed: Parsed | None, value_text: str | None) -> Any:
        if capture == "none":
            return None
        response = parsed.text if parsed is not None else value_text
        if capture == "hash":
            request = repr(
                self.native_request
                if self.native_request is not None
                else (self.prompt.texts() if self.prompt is not None else None)
            )
            return {
                "request_sha256": _sha256(request),
                "response_sha256": _sha256(response) if response is not None else None,
            }
        scrub: Callable[[str], str]
        if capture == "full":
            scrub = _scrubbers()[1]
        elif self.pii is not None:
            scrub = self.pii.record
        else:
            scrub = self._default_scrub(response, parsed)

        out: dict[str, Any] = {}
        if self.native_request is not None:
            out["request"] = map_json_strings(self.native_request, scrub)
        elif (p := self.sent_prompt or self.prompt) is not None:
            if p.system is not None:
                out["system"] = scrub(p.system)
            if p.context:
                out["context"] = [scrub(c) for c in p.context]
            if p.examples:
                out["examples"] = [_message_dict(m, scrub) for m in p.examples]
            if p.tools:
                out["tools"] = [t.name for t in p.tools]
            out["messages"] = [_message_dict(m, scrub) for m in p.messages]
        out["response"] = scrub(response) if response is not None else None
        if parsed is not None and parsed.tool_calls:
            out["tool_calls"] = [
                {"name": c.name, "arguments": map_json_strings(dict(c.arguments), scrub)}
                for c in parsed.tool_calls
            ]
        return out

    def _default_scrub(self, response: str | None, parsed: Parsed | None) -> Callable[[str], str]:
        """``scrub``, or a no-op when scanning all recorded text finds nothing.

        One detector pass over the joined texts replaces one pass per text on the
        common path (nothing to hide); texts are joined with newlines, which no
        detected entity spans, so nothing found jointly means nothing found singly.
        The static prefix's verdict is remembered (:func:`_static_clean`): per call
        only the messages and the response are scanned.
        """
        scrub = _scrubbers()[0]
        p = self.prompt
        if p is None or self.native_request is not None or (parsed and parsed.tool_calls):
            return scrub
        static = p.static_texts()
        if static and not _static_clean(static):
            return scrub
        texts = p.message_texts()
        if response:
            texts.append(response)
        if _detector()("\n".join(texts)):
            return scrub
        return _unchanged


def new_call(
    prompt: Prompt,
    tags: Tags,
    options: dict[str, Any],
    routes: list[Route],
    retry: Retry | None,
    started: float,
    output: OutputSpec | None,
    deadline_at: float | None,
) -> Call:
    """``Call(...)`` for a governed call: the same object, built with plain slot stores.

    The dataclass's keyword construction (23 fields, two default factories) was about
    a twentieth of thinllm's own work per call. Every field is set here, with the
    dataclass's defaults (a test holds the two constructors to the same fields).
    """
    c = new(Call)
    c.prompt = prompt
    c.tags = tags
    c.options = options
    c.routes = routes
    c.retry = retry
    c.started = started
    c.call_id = os.urandom(16).hex()  # new_call_id(), without the extra frame
    c.output = output
    c.deadline_at = deadline_at
    c.sent_prompt = None
    c.pii = None
    c.pii_action = None
    c.pii_routes = None
    c.pii_policy_routes = ()
    c.flag = None
    c.rendered = {}
    c.attempts = []
    c.stream = False
    c.operation = "chat"
    c.batch = False
    c.native_request = None
    c.prompt_hash = None
    c.deferred = False
    c.held = None
    return c


def _sha256(text: str) -> str:
    """Hex SHA-256 of ``text``; a lone surrogate is hashed, not refused (``surrogatepass``)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _iso(ts: float) -> str:
    """``2026-11-28T06:21:42.491558+00:00`` for a POSIX timestamp (UTC)."""
    seconds = int(ts)
    micros = round((ts - seconds) * 1e6)
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    # "1" + six digits, the "1" cut off: zero-padding without a format spec, which cost
    # more than everything else here (the same text as f"{micros:06d}").
    return _utc_second(seconds) + "." + str(1_000_000 + micros)[1:] + "+00:00"


@lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    """``2026-11-28T06:21:42`` for whole POSIX seconds.

    Cached because ``strftime``/``gmtime`` cost more than the rest of the event's
    timestamp and consecutive calls mostly fall in the same second.
    """
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


#: The "scrub" used when a scan found nothing: ``str(text)`` is ``text`` itself for a
#: str, and as a C function it costs a fraction of a Python ``lambda text: text``.
_unchanged: Callable[[str], str] = str


@cache
def _detector() -> Callable[[str], Any]:
    from .pii import default_detector

    return default_detector()


@lru_cache(maxsize=64)
def _static_clean(texts: tuple[str, ...]) -> bool:
    """Whether the built-in detector finds nothing in a prompt's static texts.

    Keyed by the texts themselves (not the prompt object), so the verdict is a pure
    function of content and prompts rebuilt per call around one shared static prefix
    scan it once. The detector is fixed (built-in, stateless), so a verdict never goes
    stale; the cache holds at most 64 prefixes.
    """
    return not _detector()("\n".join(texts))


@cache
def _scrubbers() -> tuple[Callable[[str], str], Callable[[str], str]]:
    """``(scrub, scrub_secrets)``, imported once (PII detection loads on first use)."""
    from .pii import scrub, scrub_secrets

    return scrub, scrub_secrets


def _message_dict(message: Any, scrub: Callable[[str], str]) -> dict[str, Any]:
    if len(message.parts) == 1 and type(message.parts[0]) is Text:
        return {"role": message.role, "text": scrub(message.parts[0].text)}
    parts: list[Any] = []
    for p in message.parts:
        if isinstance(p, Text):
            parts.append(scrub(p.text))
        elif isinstance(p, ToolCall):
            args = map_json_strings(dict(p.arguments), scrub)
            parts.append({"tool_call": p.name, "id": p.id, "arguments": args})
        elif isinstance(p, ToolResult):
            parts.append({"tool_result": p.tool_call_id, "content": scrub(p.content)})
    if len(parts) == 1 and isinstance(parts[0], str):
        return {"role": message.role, "text": parts[0]}
    return {"role": message.role, "parts": parts}


_SECRET_OPTION_KEYS = frozenset({"extra_headers", "api_key", "authorization"})
# Tuples, not unions: isinstance() checks a tuple faster than a union.
_NUMBER = (int, float)  # bool is an int
_JSON_TEXT = (str, list, tuple, dict)


def _safe_options(options: dict[str, Any], scrub: Callable[[str], str]) -> dict[str, Any]:
    """Options as recorded: header values never stored, text only as ``scrub`` leaves it.

    Any string may hold PII (``extra={"note": ...}``, ``stop=[...]``), so strings go
    through the call's scrub like the content does; numbers, the usual options, as is.
    """
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in _SECRET_OPTION_KEYS:
            out[key] = sorted(value) if isinstance(value, dict) else "<redacted>"
        elif isinstance(value, _NUMBER):
            out[key] = value
        elif key == "extra" and isinstance(value, dict):
            out[key] = _safe_options(value, scrub)
        elif isinstance(value, _JSON_TEXT):
            out[key] = map_json_strings(value, scrub)
        else:
            out[key] = scrub(repr(value))
    return out
