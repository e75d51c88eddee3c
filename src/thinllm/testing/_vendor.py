"""``FakeVendor``: the object tests script and hand to the official SDKs."""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import httpx2

from ._handler import Handler
from ._transport import AsyncFakeTransport, FakeTransport

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    import anthropic as anthropic_sdk
    import openai as openai_sdk

    from ._faults import Fault
    from ._model import FakeRequest
    from ._scripts import ReplySpec

__all__ = ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "FakeVendor"]

ANTHROPIC_BASE_URL = "http://anthropic.fake"
OPENAI_BASE_URL = "http://openai.fake/v1"

VendorName = Literal["anthropic", "openai"]


class FakeVendor:
    """A scriptable stand-in for the Anthropic and OpenAI APIs, for offline tests.

    The official SDKs talk to it unmodified, through an in-process ``httpx2`` transport
    (:meth:`anthropic`, :meth:`openai`, :meth:`transport`) or a real HTTP server on
    127.0.0.1 (:meth:`serve`). Script answers with :meth:`reply`, failures with
    :meth:`fail`, and inspect what was sent in :attr:`requests`.

    ``latency`` is added to every request (awaited in async clients, so concurrent
    calls overlap); ``clock`` drives cache TTLs; ``sleep``/``asleep`` let a test run
    latency without real waiting. ``cache_min_tokens`` is the smallest Anthropic prefix
    that caches; ``batch_delay`` is how many status polls a batch stays in progress.
    """

    def __init__(
        self,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        cache_min_tokens: int = 1024,
        openai_cache_ttl: float = 600.0,
        batch_delay: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._handler = Handler(
            latency=latency,
            clock=clock,
            cache_min_tokens=cache_min_tokens,
            openai_cache_ttl=openai_cache_ttl,
        )
        self._sleep = sleep
        self._asleep = asleep
        self.batch_delay = batch_delay
        self._attach_batches()

    def _attach_batches(self) -> None:
        try:
            from ._batches import BatchStore
        except ImportError:  # pragma: no cover - batches arrive in a later step
            return
        self._handler.batches = BatchStore(self._handler, lambda: self.batch_delay)

    # -- configuration -------------------------------------------------------------

    @property
    def latency(self) -> float:
        """Seconds added to every request."""
        return self._handler.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._handler.latency = seconds

    # -- scripting -----------------------------------------------------------------

    def reply(
        self,
        reply: ReplySpec,
        *,
        model: str | None = None,
        vendor: VendorName | None = None,
        times: int | None = None,
    ) -> None:
        """Script the answer: a string, a :class:`FakeReply`, or a callable of the request.

        Without ``times`` it is the standing answer (for ``model``/``vendor`` if given,
        replacing an earlier standing answer with the same filters); with ``times`` it
        answers the next ``times`` matching requests first, in order.
        """
        self._handler.scripts.add_reply(reply, model=model, vendor=vendor, times=times)

    def fail(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        model: str | None = None,
        vendor: VendorName | None = None,
        api: str | None = None,
        custom_id: str | None = None,
    ) -> None:
        """Queue ``fault`` for the next ``times`` matching requests (``None``: all of them).

        Faults are used first-in, first-out. With ``custom_id`` the fault targets that
        item of a batch (it then errors) instead of an HTTP request.
        """
        self._handler.scripts.add_fault(
            fault, times=times, model=model, vendor=vendor, api=api, custom_id=custom_id
        )

    @property
    def requests(self) -> list[FakeRequest]:
        """Every request received so far, failed ones included, oldest first (a copy)."""
        return self._handler.requests()

    def reset(self) -> None:
        """Forget requests, scripted replies, queued faults, the prompt cache and batches."""
        self._handler.reset()
        if self._handler.batches is not None:
            self._handler.batches.clear()

    # -- wiring --------------------------------------------------------------------

    def transport(self) -> httpx2.BaseTransport:
        """A synchronous ``httpx2`` transport answering in process."""
        return FakeTransport(self._handler, self._sleep)

    def async_transport(self) -> httpx2.AsyncBaseTransport:
        """An asynchronous ``httpx2`` transport answering in process."""
        return AsyncFakeTransport(self._handler, self._asleep)

    def anthropic(self, **kwargs: Any) -> anthropic_sdk.Anthropic:
        """An ``anthropic.Anthropic`` wired to this fake; ``kwargs`` go to the client."""
        import anthropic

        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", ANTHROPIC_BASE_URL)
        kwargs.setdefault("http_client", httpx2.Client(transport=self.transport()))
        return anthropic.Anthropic(**kwargs)

    def async_anthropic(self, **kwargs: Any) -> anthropic_sdk.AsyncAnthropic:
        """An ``anthropic.AsyncAnthropic`` wired to this fake."""
        import anthropic

        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", ANTHROPIC_BASE_URL)
        kwargs.setdefault("http_client", httpx2.AsyncClient(transport=self.async_transport()))
        return anthropic.AsyncAnthropic(**kwargs)

    def openai(self, **kwargs: Any) -> openai_sdk.OpenAI:
        """An ``openai.OpenAI`` wired to this fake; ``kwargs`` go to the client."""
        import openai

        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", OPENAI_BASE_URL)
        kwargs.setdefault("http_client", httpx2.Client(transport=self.transport()))
        return openai.OpenAI(**kwargs)

    def async_openai(self, **kwargs: Any) -> openai_sdk.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` wired to this fake."""
        import openai

        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", OPENAI_BASE_URL)
        kwargs.setdefault("http_client", httpx2.AsyncClient(transport=self.async_transport()))
        return openai.AsyncOpenAI(**kwargs)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve this fake over real HTTP on 127.0.0.1; yield the base URL.

        Both SDKs accept the URL as ``base_url`` (the ``/v1`` prefix is optional).
        The server stops and closes its sockets when the block exits.
        """
        from ._server import serve

        with serve(self._handler) as base_url:
            yield base_url
