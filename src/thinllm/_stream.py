"""Streaming calls: text deltas as they arrive, one audit event when the stream ends.

Rule: a failure before the first text delta is retried and rerouted like any call.
After text has reached the caller the stream is never restarted (the caller would see
text twice); the error surfaces as ``StreamInterruptedError`` with what was received,
and the call is recorded with outcome ``error``. Leaving the ``with`` block early
(``break``) closes the vendor stream and records what was received.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._failures import EmptyStreamError
from ._reply import Reply
from .errors import ConfigurationError, StreamInterruptedError

if TYPE_CHECKING:
    from ._call import Call
    from ._client import Client
    from ._route import Route
    from .pii._base import StreamRestorer
    from .providers import Parsed, StreamParser

__all__ = ["AsyncStream", "Stream"]


class _StreamBase:
    """State shared by the sync and async streams."""

    def __init__(
        self, client: Client, call: Call, flag: Any, pii: Any, fallback: Callable[[], Any] | None
    ) -> None:
        self._client = client
        self._call = call
        self._flag = flag
        self._pii = pii
        self._fallback = fallback
        self._route: Route | None = None
        self._vendor: Any = None
        self._events: Any = None
        self._parser: StreamParser | None = None
        self._pending: list[str] = []
        self._buffered_events: list[Any] = []
        self._ended = False
        self._restorer: StreamRestorer | None = None
        self._reply: Reply | None = None
        self._fallback_text: str | None = None

    @property
    def reply(self) -> Reply:
        """The final :class:`Reply` (available once the stream ended or was left)."""
        if self._reply is None:
            raise ConfigurationError(
                "the stream has not finished: read s.reply after iterating or leaving the block"
            )
        return self._reply

    @property
    def call_id(self) -> str:
        """The id this call's audit event will carry."""
        return self._call.call_id

    def _opened(
        self,
        route: Route,
        vendor: Any,
        events: Any,
        parser: StreamParser,
        buffered: list[Any],
        pending: list[str],
        ended: bool,
    ) -> None:
        """Keep the stream that answered (and what was read before the first delta)."""
        self._route, self._vendor, self._events = route, vendor, events
        self._parser, self._pending, self._ended = parser, pending, ended
        self._buffered_events = buffered

    def _deltas(self, delta: str) -> str:
        if self._restorer is not None:
            return self._restorer.feed(delta)
        return delta

    def _setup_pii_restore(self) -> None:
        session = self._call.pii
        if session is not None and self._call.pii_action == "pseudonymize":
            self._restorer = session.restorer()

    def _finish(self, *, abandoned: bool) -> None:
        """Record the call as answered (completely, or as far as the caller read)."""
        client, call = self._client, self._call
        assert self._route is not None
        assert self._parser is not None
        parsed: Parsed = self._parser.result()
        if abandoned:
            parsed.finish_reason = "abandoned"
        if call.pii is not None and call.pii_action == "pseudonymize":
            parsed.text = call.pii.restore(parsed.text)
        route = self._route
        outcome = "ok" if route is call.routes[0] else "rerouted"
        cost = client._price(parsed, route, batch=False)
        event = call.event(
            ended=client._clock(),
            outcome=outcome,
            route=route,
            parsed=parsed,
            cost=cost,
            error=None,
            capture=client.capture,
        )
        client._emit(call, event, cost)
        self._reply = Reply(
            text=parsed.text,
            usage=parsed.usage,
            cost=cost,
            route=route.name,
            outcome=outcome,  # type: ignore[arg-type]
            attempts=list(call.attempts),
            call_id=call.call_id,
            raw=None,
            value=parsed.text,
            tool_calls=parsed.tool_calls,
            model=parsed.model or route.model,
            finish_reason=parsed.finish_reason,
        )

    def _interrupted(self, exc: BaseException) -> StreamInterruptedError:
        """Record a stream that failed after text reached the caller."""
        client, call = self._client, self._call
        assert self._route is not None
        assert self._parser is not None
        parsed = self._parser.result()
        last = call.attempts[-1]
        from dataclasses import replace

        call.attempts[-1] = replace(last, error="stream_interrupted", status=last.status)
        error = StreamInterruptedError(
            f"the stream from route {self._route.name!r} broke after text reached the caller "
            f"({type(exc).__name__}); it is not restarted. The text received is on .received",
            received=parsed.text,
        )
        event = call.event(
            ended=client._clock(),
            outcome="error",
            route=self._route,
            parsed=parsed,
            cost=client._price(parsed, self._route, batch=False),
            error=error,
            capture=client.capture,
        )
        client._emit(call, event, None)
        self._reply = Reply(
            text=parsed.text,
            usage=parsed.usage,
            cost=None,
            route=self._route.name,
            outcome="error",
            attempts=list(call.attempts),
            call_id=call.call_id,
            value=parsed.text,
        )
        return error

    def _guard_or_fallback(self, exc: BaseException) -> None:
        """The call got no stream: run the fallback (its text is streamed once) or raise."""
        client, call = self._client, self._call
        outcome = client._failure_outcome(call, exc, self._fallback)
        assert self._fallback is not None
        try:
            value = self._fallback()
        except BaseException as fb_exc:
            client._record_failure(call, fb_exc, outcome=outcome)
            raise
        self._set_fallback(exc, outcome, value)

    def _set_fallback(self, exc: BaseException, outcome: str, value: Any) -> None:
        self._reply = self._client._fallback_reply(self._call, exc, outcome, value)
        self._fallback_text = value if isinstance(value, str) else None
        self._ended = True


class Stream(_StreamBase):
    """``with client.stream(...) as s: for delta in s: ...`` then ``s.reply``."""

    def __enter__(self) -> Stream:
        client, call = self._client, self._call
        try:
            client._guard(call, self._flag, self._pii)
            self._open()
        except BaseException as exc:
            self._guard_or_fallback(exc)
        self._setup_pii_restore()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading: close the vendor stream and record what was received."""
        if self._reply is not None:
            return
        self._close_vendor()
        if self._route is not None:
            self._finish(abandoned=not self._ended)

    def __iter__(self) -> Iterator[str]:
        if self._fallback_text is not None:
            text, self._fallback_text = self._fallback_text, None
            yield text
            return
        if self._reply is not None:
            return
        while self._pending:
            out = self._deltas(self._pending.pop(0))
            if out:
                yield out
        if not self._ended:
            assert self._parser is not None
            try:
                for event in self._events:
                    delta = self._parser.feed(event)
                    if delta:
                        out = self._deltas(delta)
                        if out:
                            yield out
            except Exception as exc:
                self._close_vendor()
                raise self._interrupted(exc) from exc
            self._ended = True
        if self._restorer is not None:
            tail = self._restorer.flush()
            if tail:
                yield tail
        self._close_vendor()
        self._finish(abandoned=False)

    def _close_vendor(self) -> None:
        vendor, self._vendor = self._vendor, None
        if vendor is not None:
            close = getattr(vendor, "close", None)
            if callable(close):
                close()

    def _open(self) -> None:
        """Open the first stream that yields text, retrying and rerouting before it does."""
        client, call = self._client, self._call

        def run(route: Route) -> None:
            method = route.adapter.method(route.sdk)
            kwargs = {**call.rendered[route.name], **route.adapter.stream_kwargs()}
            breaker = client._breaker_for(route)

            def once(timeout: float | None, t0: float) -> None:
                vendor = None
                try:
                    vendor = method(**kwargs, timeout=timeout) if timeout else method(**kwargs)
                    events = iter(vendor)
                    parser = route.adapter.stream_parser()
                    buffered, pending, ended = _prime(events, parser)
                    _require_events(buffered, ended)
                except Exception as exc:
                    if vendor is not None:
                        vendor.close()
                    client._after_failure(call, route, breaker, exc, t0)
                call.attempt(route, status=200, error=None, latency=client._clock() - t0)
                breaker.success()
                self._opened(route, vendor, events, parser, buffered, pending, ended)

            client._try_route(call, route, once)

        client._each_route(call, run)


class AsyncStream(_StreamBase):
    """``async with client.astream(...) as s: async for delta in s: ...`` then ``s.reply``."""

    def __init__(
        self, client: Client, call: Call, flag: Any, pii: Any, fallback: Callable[[], Any] | None
    ) -> None:
        super().__init__(client, call, flag, pii, fallback)
        call.deferred = True  # events are awaited (client._arelease), never block the loop

    async def __aenter__(self) -> AsyncStream:
        client, call = self._client, self._call
        try:
            try:
                client._guard(call, self._flag, self._pii)
                await self._open()
            except BaseException as exc:
                outcome = client._failure_outcome(call, exc, self._fallback)
                assert self._fallback is not None
                try:
                    value = self._fallback()
                    if inspect.isawaitable(value):
                        value = await value
                except BaseException as fb_exc:
                    client._record_failure(call, fb_exc, outcome=outcome)
                    raise
                self._set_fallback(exc, outcome, value)
        finally:
            await client._arelease(call)
        self._setup_pii_restore()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading: close the vendor stream and record what was received."""
        if self._reply is not None:
            return
        await self._close_vendor()
        if self._route is not None:
            self._finish(abandoned=not self._ended)
            await self._client._arelease(self._call)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        if self._fallback_text is not None:
            text, self._fallback_text = self._fallback_text, None
            yield text
            return
        if self._reply is not None:
            return
        while self._pending:
            out = self._deltas(self._pending.pop(0))
            if out:
                yield out
        if not self._ended:
            assert self._parser is not None
            try:
                async for event in self._events:
                    delta = self._parser.feed(event)
                    if delta:
                        out = self._deltas(delta)
                        if out:
                            yield out
            except Exception as exc:
                await self._close_vendor()
                raise await self._ainterrupted(exc) from exc
            self._ended = True
        if self._restorer is not None:
            tail = self._restorer.flush()
            if tail:
                yield tail
        await self._close_vendor()
        self._finish(abandoned=False)
        await self._client._arelease(self._call)

    async def _ainterrupted(self, exc: BaseException) -> StreamInterruptedError:
        """:meth:`_interrupted`, with its event delivered before the error is raised."""
        error = self._interrupted(exc)
        await self._client._arelease(self._call)
        return error

    async def _close_vendor(self) -> None:
        vendor, self._vendor = self._vendor, None
        if vendor is not None:
            close = getattr(vendor, "close", None)
            if callable(close):
                result = close()
                if inspect.isawaitable(result):
                    await result

    async def _open(self) -> None:
        client, call = self._client, self._call

        async def run(route: Route) -> None:
            method = route.adapter.method(route.sdk)
            kwargs = {**call.rendered[route.name], **route.adapter.stream_kwargs()}
            breaker = client._breaker_for(route)

            async def once(timeout: float | None, t0: float) -> None:
                vendor = None
                try:
                    if timeout:
                        vendor = await method(**kwargs, timeout=timeout)
                    else:
                        vendor = await method(**kwargs)
                    events = vendor.__aiter__()
                    parser = route.adapter.stream_parser()
                    buffered, pending, ended = await _aprime(events, parser)
                    _require_events(buffered, ended)
                except Exception as exc:
                    if vendor is not None:
                        await vendor.close()
                    client._after_failure(call, route, breaker, exc, t0)
                call.attempt(route, status=200, error=None, latency=client._clock() - t0)
                breaker.success()
                self._opened(route, vendor, events, parser, buffered, pending, ended)

            await client._atry_route(call, route, once)

        await client._aeach_route(call, run)


def _require_events(buffered: list[Any], ended: bool) -> None:
    """A 200 whose body held no stream events is a malformed answer, not an empty reply."""
    if ended and not buffered:
        raise EmptyStreamError(
            "the stream ended before any event: the body was not an event stream"
        )


def _prime(events: Iterator[Any], parser: StreamParser) -> tuple[list[Any], list[str], bool]:
    """Read events until the first text delta: ``(events read, deltas, stream ended)``."""
    seen: list[Any] = []
    for event in events:
        seen.append(event)
        delta = parser.feed(event)
        if delta:
            return seen, [delta], False
    return seen, [], True


async def _aprime(
    events: AsyncIterator[Any], parser: StreamParser
) -> tuple[list[Any], list[str], bool]:
    seen: list[Any] = []
    async for event in events:
        seen.append(event)
        delta = parser.feed(event)
        if delta:
            return seen, [delta], False
    return seen, [], True
