"""The one request handler shared by the in-process transport and the HTTP server.

``Handler.handle`` takes the raw HTTP request and returns a transport-neutral
:class:`~thinllm.testing._wire.Wire`; it logs the request, applies queued faults,
validates like the real API, resolves the scripted reply and renders the vendor's
wire format with simulated token and cache counts.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs

from . import _anthropic_wire as anthropic_wire
from . import _openai_wire as openai_wire
from ._answer import Answer, Counts, Stop, ToolCall, fake_id
from ._cache import CacheResult, PromptCache
from ._model import FakeReply, FakeRequest
from ._schema import minimal_value
from ._scripts import Scripts
from ._tokens import canonical_json, count_tokens
from ._wire import Wire

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ._faults import Fault

__all__ = ["DEFAULT_TEXT", "Handler", "mask_headers"]

DEFAULT_TEXT = "This is a reply from the fake vendor."

Vendor = Literal["anthropic", "openai"]
Api = Literal["messages", "chat", "responses", "batches", "files", "unknown"]

_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization"})

_STOPS: dict[str, Stop] = {
    "end_turn": "end",
    "stop": "end",
    "tool_use": "tool",
    "tool_calls": "tool",
    "max_tokens": "max",
    "length": "max",
    "stop_sequence": "stop_sequence",
    "refusal": "refusal",
}


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names and mask credential values, so a log never holds a key."""
    masked: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in _SECRET_HEADERS or "token" in key or "secret" in key or "cookie" in key:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            masked[key] = f"{scheme} ***" if scheme.lower() == "bearer" else "***"
        else:
            masked[key] = value
    return masked


def route(method: str, path: str, headers: Mapping[str, str]) -> tuple[Vendor, Api]:
    """Which vendor and API a request is for, from its path (``/v1`` prefix optional)."""
    bare = path[3:] if path.startswith("/v1/") else path
    if bare.startswith("/messages/batches"):
        return "anthropic", "batches"
    if bare == "/messages":
        return "anthropic", "messages"
    if bare == "/chat/completions":
        return "openai", "chat"
    if bare == "/responses":
        return "openai", "responses"
    if bare.startswith("/batches"):
        return "openai", "batches"
    if bare.startswith("/files"):
        return "openai", "files"
    lowered = {k.lower() for k in headers}
    return ("anthropic" if "x-api-key" in lowered else "openai"), "unknown"


class Handler:
    """State and logic behind one fake vendor: scripts, request log, prompt cache."""

    def __init__(
        self,
        *,
        latency: float,
        clock: Callable[[], float],
        cache_min_tokens: int,
        openai_cache_ttl: float,
    ) -> None:
        self.latency = latency
        self.clock = clock
        self.cache_min_tokens = cache_min_tokens
        self.openai_cache_ttl = openai_cache_ttl
        self.scripts = Scripts()
        self.cache = PromptCache(clock)
        self._lock = threading.Lock()
        self._log: list[FakeRequest] = []
        self._seq = 0
        self._request_ids = itertools.count(1)  # next() on a count is atomic in CPython
        self.batches: Any = None  # set by FakeVendor: the batch store

    # -- bookkeeping ---------------------------------------------------------------

    def next_seq(self) -> int:
        """A fresh number for ids (messages, responses, tool calls, batches)."""
        with self._lock:
            self._seq += 1
            return self._seq

    def requests(self) -> list[FakeRequest]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        """Forget the log, scripts and cache."""
        with self._lock:
            self._log.clear()
        self.scripts.clear()
        self.cache.clear()

    def _record(self, request: FakeRequest) -> None:
        with self._lock:
            self._log.append(request)

    # -- entry point ---------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Wire:
        """Answer one HTTP request (``target`` is the path with its query string)."""
        path, _, query_string = target.partition("?")
        query = {k: v[-1] for k, v in parse_qs(query_string).items()}
        vendor, api = route(method, path, headers)
        body, parse_error = _parse_body(headers, raw)
        request = self.make_request(
            vendor, api, method=method, path=path, headers=headers, body=body, raw=raw
        )
        self._record(request)
        wire = self._answer(request, query, parse_error)
        wire.delay += self.latency
        return wire

    def make_request(
        self,
        vendor: Vendor,
        api: Api,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: dict[str, Any],
        raw: bytes,
        custom_id: str | None = None,
    ) -> FakeRequest:
        """Build the :class:`FakeRequest` a test inspects and a reply callable receives."""
        model = body.get("model") if isinstance(body.get("model"), str) else None
        if api == "messages":
            text, texts = anthropic_wire.texts(body)
        elif api in ("chat", "responses"):
            text, texts = openai_wire.texts(api, body)
        else:
            text, texts = "", ()
        return FakeRequest(
            vendor=vendor,
            api=api,
            method=method.upper(),
            path=path,
            headers=mask_headers(headers),
            body=body,
            raw_body=raw,
            model=model,
            stream=body.get("stream") is True,
            text=text,
            texts=texts,
            custom_id=custom_id,
        )

    def _answer(self, request: FakeRequest, query: dict[str, str], parse_error: str | None) -> Wire:
        headers = self.response_headers(request.vendor)
        fault = self.scripts.take_fault(request)
        if fault is not None:
            wire = self.fault_wire(fault, request, headers)
            if wire is not None:
                return wire
        if parse_error is not None:
            return self.error(request, 400, parse_error, headers)
        if request.api in ("batches", "files"):
            if self.batches is None:
                return self.error(request, 404, f"Not found: {request.path}", headers, "not_found")
            wire = self.batches.handle(request, query, headers)
            assert isinstance(wire, Wire)
            return wire
        if request.api == "unknown" or request.method != "POST":
            return self.error(request, 404, f"Not found: {request.path}", headers, "not_found")
        # One endpoint serves messages.create and beta.messages.create; the beta keys are
        # accepted when the request opts into a beta, so stable-API renderers stay strict.
        beta = query.get("beta") == "true" or "anthropic-beta" in request.headers
        invalid = self.validate(request, beta=beta)
        if invalid is not None:
            return invalid
        answer = self.answer(request)
        wire = self.render(request, answer)
        if fault is not None and fault.kind == "stream_cut":
            wire.cut_after = fault.after_chunks
        if fault is not None and fault.kind == "slow":
            wire.delay += fault.seconds
        return wire

    # -- pieces (also used for batch items) ----------------------------------------

    def response_headers(self, vendor: Vendor) -> dict[str, str]:
        """Headers every response carries: the vendor's request-id header."""
        request_id = fake_id("req_", next(self._request_ids))
        return {"request-id" if vendor == "anthropic" else "x-request-id": request_id}

    def error(
        self,
        request: FakeRequest,
        status: int,
        message: str,
        headers: dict[str, str],
        kind: Literal["invalid", "not_found"] = "invalid",
    ) -> Wire:
        """An error response in the request's vendor envelope."""
        if request.vendor == "anthropic":
            error_type = "not_found_error" if kind == "not_found" else "invalid_request_error"
            return anthropic_wire.error_wire(status, error_type, message, headers)
        return openai_wire.error_wire(status, message, headers)

    def fault_wire(
        self, fault: Fault, request: FakeRequest, headers: dict[str, str]
    ) -> Wire | None:
        """The response a fault produces, or ``None`` when the reply is built normally."""
        kind = fault.kind
        if kind == "slow" or (kind == "stream_cut" and request.stream):
            return None
        if kind == "timeout":
            return Wire(action="timeout", headers=headers)
        if kind in ("connection_reset", "stream_cut"):
            return Wire(action="reset", headers=headers)
        if kind == "malformed":
            return Wire(200, {**headers, "content-type": "application/json"}, b'{"id": "trunc')
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
        if request.vendor == "anthropic":
            return anthropic_wire.fault_wire(fault, request.model, headers)
        api: Literal["chat", "responses"] = "responses" if request.api == "responses" else "chat"
        return openai_wire.fault_wire(fault, api, request.model, headers)

    def validate(self, request: FakeRequest, *, beta: bool = False) -> Wire | None:
        """The 400 the real API gives for this body, or ``None`` when it is valid."""
        headers = self.response_headers(request.vendor)
        if request.api == "messages":
            message = anthropic_wire.validate(request.body, beta=beta)
            if message is None:
                return None
            return anthropic_wire.error_wire(400, "invalid_request_error", message, headers)
        return openai_wire.validate(request.api, request.body, headers)  # type: ignore[arg-type]

    def answer(self, request: FakeRequest, *, prompt_cache: bool = True) -> Answer:
        """Resolve the scripted reply and count its tokens, cache included."""
        body = request.body
        if request.api == "messages":
            schema = anthropic_wire.structured_schema(body)
            limit = anthropic_wire.max_output(body)
            segments = anthropic_wire.segments(body)
        else:
            api: Literal["chat", "responses"] = "chat" if request.api == "chat" else "responses"
            schema = openai_wire.structured_schema(api, body)
            limit = openai_wire.max_output(api, body)
            segments = openai_wire.segments(api, body)
        reply = self.scripts.resolve(request)
        if reply is None:
            text = DEFAULT_TEXT if schema is None else json.dumps(minimal_value(schema))
            reply = FakeReply(text=text)
        seq = self.next_seq()
        model = reply.model or request.model or "unknown"
        total = sum(s.tokens for s in segments)
        cache = CacheResult()
        if prompt_cache and request.vendor == "anthropic":
            cache = self.cache.anthropic(model, segments, self.cache_min_tokens)
        elif prompt_cache:
            namespace = f"{model}\x00{body.get('prompt_cache_key', '')}"
            cache = self.cache.openai(namespace, segments, ttl=self._openai_ttl(body))
        if reply.input_tokens is not None:
            total = reply.input_tokens
            cache = CacheResult(min(cache.read, total), 0, 0)
        text, calls, stop = _shape(reply, limit)
        id_prefix = "toolu_" if request.vendor == "anthropic" else "call_"
        tool_calls = tuple(
            ToolCall(
                str(call.get("id") or fake_id(id_prefix, seq, f"_{i}")),
                str(call["name"]),
                dict(call.get("arguments") or {}),
            )
            for i, call in enumerate(calls)
        )
        output = reply.output_tokens
        if output is None:
            output = count_tokens(text) + sum(
                count_tokens(c.name + canonical_json(c.arguments)) for c in tool_calls
            )
        counts = Counts(
            total, cache.read, cache.write_5m, cache.write_1h, output, reply.reasoning_tokens
        )
        return Answer(seq, model, text, tool_calls, stop, counts)

    def render(self, request: FakeRequest, answer: Answer) -> Wire:
        """The successful response for ``answer`` in the request's wire format."""
        headers = self.response_headers(request.vendor)
        sse = {**headers, "content-type": "text/event-stream; charset=utf-8"}
        body = request.body
        if request.api == "messages":
            if request.stream:
                return Wire(200, sse, frames=anthropic_wire.stream_frames(answer))
            payload = anthropic_wire.message_payload(answer)
        elif request.api == "chat":
            if request.stream:
                options = body.get("stream_options")
                include = isinstance(options, dict) and options.get("include_usage") is True
                return Wire(200, sse, frames=openai_wire.chat_frames(answer, include_usage=include))
            payload = openai_wire.chat_payload(answer)
        else:
            if request.stream:
                return Wire(200, sse, frames=openai_wire.response_frames(answer, body))
            payload = openai_wire.response_payload(answer, body)
        return Wire(
            200,
            {**headers, "content-type": "application/json"},
            json.dumps(payload, ensure_ascii=False).encode(),
        )

    def _openai_ttl(self, body: dict[str, Any]) -> float:
        options = body.get("prompt_cache_options")
        ttl = options.get("ttl") if isinstance(options, dict) else None
        if ttl == "12h" or body.get("prompt_cache_retention") == "24h":
            return 12 * 3600.0 if ttl == "12h" else 24 * 3600.0
        if ttl == "30m":
            return 1800.0
        return self.openai_cache_ttl


def _parse_body(headers: Mapping[str, str], raw: bytes) -> tuple[dict[str, Any], str | None]:
    if not raw:
        return {}, None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "multipart/form-data" in content_type:
        from ._multipart import parse_multipart

        return parse_multipart(content_type, raw), None
    try:
        body = json.loads(raw)
    except ValueError:
        return {}, "There was an error parsing the body: invalid JSON"
    if not isinstance(body, dict):
        return {}, "The request body must be a JSON object"
    return body, None


def _shape(reply: FakeReply, limit: int | None) -> tuple[str, list[dict[str, Any]], Stop]:
    """Apply the request's output-token limit; translate the stop reason."""
    text = reply.text
    calls = list(reply.tool_calls)
    if reply.stop_reason is not None:
        stop = _STOPS[reply.stop_reason]
    else:
        stop = "tool" if calls else "end"
    if limit is not None and reply.output_tokens is None and count_tokens(text) > limit:
        # Cut at a character boundary so the text stays valid UTF-8, as a real model stops.
        cut = text.encode("utf-8")[: limit * 4].decode("utf-8", errors="ignore")
        return cut, [], "max"
    return text, calls, stop
