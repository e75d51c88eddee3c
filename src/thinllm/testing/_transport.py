"""In-process ``httpx2`` transports: the SDKs' own HTTP stack, no sockets.

Faults that break a connection raise the same ``httpx2`` exceptions a real network
would (``ReadTimeout``, ``RemoteProtocolError``), so the SDKs map them to their own
``APITimeoutError`` / ``APIConnectionError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx2

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from ._handler import Handler
    from ._wire import Wire

__all__ = ["AsyncFakeTransport", "FakeTransport"]

_CUT = "peer closed connection without sending complete message body (incomplete chunked read)"


def _target(request: httpx2.Request) -> str:
    return request.url.raw_path.decode("ascii")


def _raise_for_action(wire: Wire, request: httpx2.Request) -> None:
    if wire.action == "timeout":
        raise httpx2.ReadTimeout("The read operation timed out", request=request)
    if wire.action == "reset":
        raise httpx2.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )


class _SyncFrames(httpx2.SyncByteStream):
    def __init__(self, chunks: list[bytes], broken: bool, request: httpx2.Request) -> None:
        self._chunks = chunks
        self._broken = broken
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        if self._broken:
            raise httpx2.RemoteProtocolError(_CUT, request=self._request)


class _AsyncFrames(httpx2.AsyncByteStream):
    def __init__(self, chunks: list[bytes], broken: bool, request: httpx2.Request) -> None:
        self._chunks = chunks
        self._broken = broken
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._broken:
            raise httpx2.RemoteProtocolError(_CUT, request=self._request)


def _response(wire: Wire, request: httpx2.Request, *, asynchronous: bool) -> httpx2.Response:
    if wire.frames is None:
        return httpx2.Response(
            wire.status, headers=wire.headers, content=wire.body, request=request
        )
    chunks, broken = wire.frames_to_send()
    stream: httpx2.SyncByteStream | httpx2.AsyncByteStream
    if asynchronous:
        stream = _AsyncFrames(chunks, broken, request)
    else:
        stream = _SyncFrames(chunks, broken, request)
    return httpx2.Response(wire.status, headers=wire.headers, stream=stream, request=request)


class FakeTransport(httpx2.BaseTransport):
    """A synchronous transport answering from a fake vendor; latency uses ``sleep``."""

    def __init__(self, handler: Handler, sleep: Callable[[float], None]) -> None:
        self._handler = handler
        self._sleep = sleep

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer ``request`` through the shared handler."""
        raw = request.read()
        wire = self._handler.handle(request.method, _target(request), request.headers, raw)
        if wire.delay > 0:
            self._sleep(wire.delay)
        _raise_for_action(wire, request)
        return _response(wire, request, asynchronous=False)


class AsyncFakeTransport(httpx2.AsyncBaseTransport):
    """An async transport answering from a fake vendor; latency awaits ``asleep``.

    Because the delay is awaited, concurrent calls overlap as they would on a network.
    """

    def __init__(self, handler: Handler, asleep: Callable[[float], Awaitable[object]]) -> None:
        self._handler = handler
        self._asleep = asleep

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer ``request`` through the shared handler."""
        raw = await request.aread()
        wire = self._handler.handle(request.method, _target(request), request.headers, raw)
        if wire.delay > 0:
            await self._asleep(wire.delay)
        _raise_for_action(wire, request)
        return _response(wire, request, asynchronous=True)
