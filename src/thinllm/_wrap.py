"""``client.wrap(vendor_client)``: the vendor's own methods, governed.

Existing code keeps calling ``messages.create`` / ``chat.completions.create`` /
``responses.create`` with the vendor's own arguments and gets the vendor's own return
types; thinllm adds tags (``tags=`` or ambient), the kill switch, PII handling,
retries/circuit, pricing and one audit event per call. Everything else on the client
passes through untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import _tags
from ._call import Call
from ._prompt import map_json_strings
from ._route import Route
from .errors import ConfigurationError
from .providers import detect

if TYPE_CHECKING:
    from ._client import Client
    from .providers import Parsed

__all__ = ["wrap"]

#: Request fields that carry text the vendor reads (PII handling applies to them).
_TEXT_FIELDS = ("messages", "system", "input", "instructions", "tools")
#: Request fields that make up the static prefix (for ``prompt_hash``).
_STATIC_FIELDS = ("system", "instructions", "tools")


def wrap(client: Client, vendor: Any, *, name: str | None = None) -> Any:
    """A governed stand-in for ``vendor`` (see :meth:`thinllm.Client.wrap`)."""
    _, is_async, api = detect(vendor)
    if api == "messages":
        return _Proxy(vendor, {"messages": _Create(client, vendor, "messages", name, is_async)})
    chat = _Proxy(
        vendor.chat,
        {
            "completions": _Create(
                client, vendor, "chat", name, is_async, owner=vendor.chat.completions
            )
        },
    )
    return _Proxy(
        vendor, {"chat": chat, "responses": _Create(client, vendor, "responses", name, is_async)}
    )


class _Proxy:
    """Delegates every attribute to ``target`` except the governed ones."""

    def __init__(self, target: Any, governed: Mapping[str, Any]) -> None:
        self._target = target
        self._governed = dict(governed)

    def __getattr__(self, attr: str) -> Any:
        governed = self.__dict__.get("_governed", {})
        if attr in governed:
            return governed[attr]
        return getattr(self.__dict__["_target"], attr)

    def __repr__(self) -> str:
        return f"<thinllm governed {type(self._target).__name__}>"


class _Create:
    """A resource whose ``create`` is governed; its other methods pass through."""

    def __init__(
        self,
        client: Client,
        vendor: Any,
        api: str,
        name: str | None,
        is_async: bool,
        owner: Any = None,
    ) -> None:
        self._client = client
        self._vendor = vendor
        self._api = api
        self._name = name
        self._is_async = is_async
        self._owner = owner if owner is not None else getattr(vendor, api)
        self._routes: dict[str, Route] = {}

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.__dict__["_owner"], attr)

    def _route(self, model: Any) -> Route:
        if not isinstance(model, str) or not model:
            raise ConfigurationError(f"model= must be a non-empty string, got {model!r}")
        route = self._routes.get(model)
        if route is None:
            route = Route(self._vendor, model, name=self._name or model, api=self._api)
            self._client._breaker_for(route)
            self._routes[model] = route
        return route

    def _open(self, kwargs: dict[str, Any]) -> tuple[Call, Route]:
        """Validate, run the policies before sending and apply PII to the native request."""
        client = self._client
        tags = kwargs.pop("tags", None)
        route = self._route(kwargs.get("model"))
        if "max_retries" in kwargs:
            raise ConfigurationError("max_retries= is managed by thinllm's retry policy")
        call = Call(
            prompt=None,
            tags=_tags.resolve(tags),
            options={k: v for k, v in kwargs.items() if k not in _TEXT_FIELDS and k != "model"},
            routes=[route],
            retry=None,
            started=client._clock(),
            stream=bool(kwargs.get("stream")),
            prompt_hash=_static_hash(kwargs),
        )
        policy = client.retry
        if policy.deadline is not None:
            call.deadline_at = call.started + policy.deadline
        return call, route

    def _prepare(self, call: Call, route: Route, kwargs: dict[str, Any]) -> None:
        client = self._client
        client._guard(call, None, None)
        session = client._open_pii(call, None)
        if session is not None:
            for key in _TEXT_FIELDS:
                if key in kwargs:
                    kwargs[key] = map_json_strings(kwargs[key], session.outgoing)
            client._pii_decide(call)
        if call.pii_routes is not None and route.name not in call.pii_routes:
            call.attempt(route, status=None, error=None, latency=0.0, skipped="pii route policy")
            from .errors import RoutesExhaustedError

            raise RoutesExhaustedError(
                f"the request contains PII and route {route.name!r} is not allowed by the PII "
                f"policy {list(call.pii_routes)}; use a governed Client route for that region",
                call.attempts,
            )
        user_id = client._user_id(call.tags)
        if user_id is not None:
            _tag_request(kwargs, self._api, user_id)
        call.native_request = {k: kwargs[k] for k in _TEXT_FIELDS if k in kwargs}
        call.rendered[route.name] = kwargs

    def create(self, **kwargs: Any) -> Any:
        """The vendor's ``create``, governed. Returns the vendor's own type."""
        if self._is_async:
            return self._acreate(kwargs)
        client = self._client
        call, route = self._open(kwargs)
        try:
            self._prepare(call, route, kwargs)
            if call.stream:
                return self._open_stream(call, route)
            routed, raw, parsed = client._send(call)
        except BaseException as exc:
            client._failure_outcome(call, exc, None)
            raise  # pragma: no cover - _failure_outcome always raises without a fallback
        return self._finish(call, routed, raw, parsed)

    async def _acreate(self, kwargs: dict[str, Any]) -> Any:
        client = self._client
        call, route = self._open(kwargs)
        call.deferred = True  # the event is awaited below, never blocking the loop
        try:
            try:
                self._prepare(call, route, kwargs)
                if call.stream:
                    return await self._aopen_stream(call, route)
                routed, raw, parsed = await client._asend(call)
            except BaseException as exc:
                client._failure_outcome(call, exc, None)
                raise  # pragma: no cover
            return self._finish(call, routed, raw, parsed)
        finally:
            await client._arelease(call)

    def _finish(self, call: Call, route: Route, raw: Any, parsed: Parsed) -> Any:
        client = self._client
        if call.pii is not None and call.pii_action == "pseudonymize":
            _restore_native(raw, self._api, call.pii.restore)
            parsed.text = call.pii.restore(parsed.text)
        cost = client._price(parsed, route, batch=False)
        event = call.event(
            ended=client._clock(),
            outcome="ok",
            route=route,
            parsed=parsed,
            cost=cost,
            error=None,
            capture=client.capture,
        )
        client._emit(call, event, cost)
        return raw

    # Native streams: retried until the stream opens, then recorded when it ends.

    def _open_stream(self, call: Call, route: Route) -> Any:
        from ._stream import Stream

        stream = Stream(self._client, call, None, None, None)
        stream._open()
        stream._setup_pii_restore()
        return _NativeStream(stream, self._api)

    async def _aopen_stream(self, call: Call, route: Route) -> Any:
        from ._stream import AsyncStream

        stream = AsyncStream(self._client, call, None, None, None)
        await stream._open()
        stream._setup_pii_restore()
        return _AsyncNativeStream(stream, self._api)


class _NativeStream:
    """Yields the vendor's own stream events; records the call when it ends or is closed."""

    def __init__(self, stream: Any, api: str) -> None:
        self._stream = stream
        self._api = api
        self._buffered = list(stream._buffered_events)

    def __iter__(self) -> Iterator[Any]:
        s = self._stream
        try:
            while self._buffered:
                yield from _restore_event(self._buffered.pop(0), self._api, s)
            if not s._ended:
                try:
                    for event in s._events:
                        s._parser.feed(event)
                        yield from _restore_event(event, self._api, s)
                except Exception as exc:
                    s._close_vendor()
                    raise s._interrupted(exc) from exc
                s._ended = True
        finally:
            self.close()

    def close(self) -> None:
        """Close the vendor stream and record the call."""
        self._stream.close()

    def __enter__(self) -> _NativeStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AsyncNativeStream:
    """Async :class:`_NativeStream`."""

    def __init__(self, stream: Any, api: str) -> None:
        self._stream = stream
        self._api = api
        self._buffered = list(stream._buffered_events)

    def __aiter__(self) -> Any:
        return self._iterate()

    async def _iterate(self) -> Any:
        s = self._stream
        try:
            while self._buffered:
                for out in _restore_event(self._buffered.pop(0), self._api, s):
                    yield out
            if not s._ended:
                try:
                    async for event in s._events:
                        s._parser.feed(event)
                        for out in _restore_event(event, self._api, s):
                            yield out
                except Exception as exc:
                    await s._close_vendor()
                    raise await s._ainterrupted(exc) from exc
                s._ended = True
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the vendor stream and record the call."""
        await self._stream.aclose()

    async def __aenter__(self) -> _AsyncNativeStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _static_hash(kwargs: Mapping[str, Any]) -> str:
    static = {k: kwargs[k] for k in _STATIC_FIELDS if k in kwargs}
    payload = json.dumps(static, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _tag_request(kwargs: dict[str, Any], api: str, user_id: str) -> None:
    """Forward the (hashed) user to the vendor's end-user field unless the caller set one."""
    if api == "messages":
        metadata = dict(kwargs.get("metadata") or {})
        metadata.setdefault("user_id", user_id)
        kwargs["metadata"] = metadata
    else:
        kwargs.setdefault("safety_identifier", user_id)


def _restore_native(raw: Any, api: str, restore: Callable[[str], str]) -> None:
    """Put pseudonymized values back into a native response, in place."""
    if api == "messages":
        for block in raw.content:
            if getattr(block, "type", None) == "text":
                block.text = restore(block.text)
    elif api == "chat":
        for choice in raw.choices:
            if choice.message.content:
                choice.message.content = restore(choice.message.content)
    else:
        for item in raw.output or []:
            for part in getattr(item, "content", None) or []:
                if getattr(part, "type", None) == "output_text":
                    part.text = restore(part.text)


def _restore_event(event: Any, api: str, stream: Any) -> list[Any]:
    """Restore pseudonyms in one native stream event's text delta, in place.

    The restorer holds back a placeholder split across deltas; what it still holds
    when the text ends is emitted as one extra text-delta event of the vendor's type.
    """
    restorer = stream._restorer
    if restorer is None:
        return [event]
    kind = getattr(event, "type", None)
    if api == "messages":
        delta: Any = getattr(event, "delta", None)
        if delta is not None and getattr(delta, "type", None) == "text_delta":
            delta.text = restorer.feed(delta.text)
        elif kind == "content_block_stop":
            tail = restorer.flush()
            if tail:
                from anthropic.types import RawContentBlockDeltaEvent, TextDelta

                extra = RawContentBlockDeltaEvent(
                    type="content_block_delta",
                    index=event.index,
                    delta=TextDelta(type="text_delta", text=tail),
                )
                return [extra, event]
    elif api == "chat":
        if event.choices:
            choice = event.choices[0]
            if choice.delta.content:
                choice.delta.content = restorer.feed(choice.delta.content)
            if choice.finish_reason:
                tail = restorer.flush()
                if tail:
                    choice.delta.content = (choice.delta.content or "") + tail
    elif kind == "response.output_text.delta":
        event.delta = restorer.feed(event.delta)
    elif kind == "response.output_text.done":
        tail = restorer.flush()
        session = stream._call.pii
        assert session is not None  # a restorer exists only with a pseudonymizing session
        event.text = session.restore(event.text)
        if tail:
            extra = event.model_copy(update={"type": "response.output_text.delta", "delta": tail})
            return [extra, event]
    return [event]
