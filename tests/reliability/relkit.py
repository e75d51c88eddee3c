"""Shared pieces of the reliability tests: a fake clock, governed clients over the fake
vendor in any call mode, and the table of fault kinds with what the client must do.

Kept as a plain module (not only fixtures) so tests can type their arguments with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anthropic
import httpx2
import openai

from thinllm import Client, Prompt, Reply, Route, Tool, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault
from thinllm.testing._vendor import ANTHROPIC_BASE_URL, OPENAI_BASE_URL

Mode = Literal["sync", "async", "stream", "astream"]
Vendor = Literal["anthropic", "openai"]
Action = Literal["retry", "reroute", "stop"]

MODES: tuple[Mode, ...] = ("sync", "async", "stream", "astream")
MODELS: dict[Vendor, str] = {"anthropic": "claude-sonnet-5-5", "openai": "gpt-6.1-terra"}
#: A realistic epoch, so audit timestamps render (the clock only moves when told).
EPOCH = 1_800_000_000.0

LOOKUP = Tool(
    "lookup_order",
    "Look up an order by id.",
    {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)
PROMPT = Prompt(system="You triage support tickets.", messages=[user("My parcel is late.")])
TOOL_PROMPT = Prompt(
    system="You triage support tickets.",
    messages=[user("Where is order 42?")],
    tools=[LOOKUP],
)


class FakeClock:
    """Time that moves only when something sleeps: the client's retry waits (recorded
    in ``sleeps``) or the fake vendor's latency (``advance``, not recorded)."""

    def __init__(self, start: float = EPOCH) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """The client's sleep: record the wait and move time on."""
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        """Async :meth:`sleep`."""
        self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        """The fake vendor's latency: time passes, nothing recorded."""
        self.now += seconds

    async def aadvance(self, seconds: float) -> None:
        """Async :meth:`advance`."""
        self.advance(seconds)


def _read_timeout(request: httpx2.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


class SlowNetwork(httpx2.BaseTransport):
    """The fake vendor behind a network taking ``latency`` fake seconds per request.

    The request always reaches the vendor (it is logged there); when the answer would
    take longer than the request's read timeout, the clock moves by the timeout and
    ``httpx2.ReadTimeout`` is raised, as a socket would.
    """

    def __init__(self, inner: httpx2.BaseTransport, clock: FakeClock, latency: float) -> None:
        self._inner = inner
        self._clock = clock
        self.latency = latency

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Forward, then spend the latency (or time out) on the fake clock."""
        response = self._inner.handle_request(request)
        limit = _read_timeout(request)
        if limit is not None and self.latency > limit:
            response.close()
            self._clock.advance(limit)
            raise httpx2.ReadTimeout("simulated read timeout", request=request)
        self._clock.advance(self.latency)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class AsyncSlowNetwork(httpx2.AsyncBaseTransport):
    """Async :class:`SlowNetwork`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, clock: FakeClock, latency: float) -> None:
        self._inner = inner
        self._clock = clock
        self.latency = latency

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Forward, then spend the latency (or time out) on the fake clock."""
        response = await self._inner.handle_async_request(request)
        limit = _read_timeout(request)
        if limit is not None and self.latency > limit:
            await response.aclose()
            self._clock.advance(limit)
            raise httpx2.ReadTimeout("simulated read timeout", request=request)
        self._clock.advance(self.latency)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


@dataclass
class Harness:
    """Governed clients over one fake vendor, driven in one call mode; closes its SDKs."""

    fake: FakeVendor
    mode: Mode
    clock: FakeClock = field(default_factory=FakeClock)
    #: Fake seconds each request to a vendor takes (see :class:`SlowNetwork`).
    latency: dict[Vendor, float] = field(default_factory=dict)
    streamed: list[str] = field(default_factory=list)
    _sdks: list[Any] = field(default_factory=list)

    @property
    def is_async(self) -> bool:
        """Whether this mode needs async vendor clients."""
        return self.mode in ("async", "astream")

    def sdk(self, vendor: Vendor) -> Any:
        """A vendor client built as users build them: SDK default ``max_retries`` (2)."""
        latency = self.latency.get(vendor, 0.0)
        http: httpx2.Client | httpx2.AsyncClient
        if self.is_async:
            http = httpx2.AsyncClient(
                transport=AsyncSlowNetwork(self.fake.async_transport(), self.clock, latency)
            )
        else:
            http = httpx2.Client(transport=SlowNetwork(self.fake.transport(), self.clock, latency))
        sdk: Any
        if vendor == "anthropic":
            cls = anthropic.AsyncAnthropic if self.is_async else anthropic.Anthropic
            sdk = cls(api_key="test-key", base_url=ANTHROPIC_BASE_URL, http_client=http)  # type: ignore[arg-type]
        else:
            kind = openai.AsyncOpenAI if self.is_async else openai.OpenAI
            sdk = kind(api_key="test-key", base_url=OPENAI_BASE_URL, http_client=http)  # type: ignore[arg-type]
        self._sdks.append(sdk)
        return sdk

    def route(self, vendor: Vendor, *, name: str | None = None, **kwargs: Any) -> Route:
        """A route on ``vendor``'s usual model, named after the vendor by default."""
        model = kwargs.pop("model", MODELS[vendor])
        return Route(self.sdk(vendor), model=model, name=name or vendor, **kwargs)

    def client(
        self, routes: Iterable[Route | Vendor], *, sink: MemorySink | None = None, **kwargs: Any
    ) -> Client:
        """A client on the fake clock whose retry waits are recorded, never slept."""
        built = [r if isinstance(r, Route) else self.route(r) for r in routes]
        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("sleep", self.clock.sleep)
        kwargs.setdefault("asleep", self.clock.asleep)
        return Client(built, sinks=[sink] if sink is not None else [], **kwargs)

    def call(self, client: Client, prompt: Prompt = PROMPT, **kwargs: Any) -> Reply:
        """One governed call in this harness's mode; streamed deltas land in ``streamed``."""
        kwargs.setdefault("max_tokens", 64)
        if self.mode == "sync":
            return client.complete(prompt, **kwargs)
        if self.mode == "async":
            return asyncio.run(client.acomplete(prompt, **kwargs))
        if self.mode == "stream":
            with client.stream(prompt, **kwargs) as s:
                self.streamed = list(s)
            return s.reply

        async def astream() -> Reply:
            async with client.astream(prompt, **kwargs) as s:
                self.streamed = [d async for d in s]
            return s.reply

        return asyncio.run(astream())

    def close(self) -> None:
        """Close every vendor client this harness built."""
        for sdk in self._sdks:
            if self.is_async:
                asyncio.run(sdk.close())
            else:
                sdk.close()
        self._sdks.clear()


def requests_to(fake: FakeVendor, vendor: Vendor) -> int:
    """How many requests ``vendor``'s side of the fake received."""
    return sum(1 for r in fake.requests if r.vendor == vendor)


def tried(attempts: Iterable[Any]) -> int:
    """Attempts that reached a vendor (skips excluded)."""
    return sum(1 for a in attempts if a.skipped is None)


def shape(attempts: Iterable[Any]) -> list[tuple[str, str, int | None, str | None]]:
    """``(route, model, status, error)`` per attempt: what the assertions compare."""
    return [(a.route, a.model, a.status, a.error) for a in attempts]


@dataclass(frozen=True)
class Kind:
    """One fault kind and what the client must do with it (``action``), per vendor."""

    id: str
    fault: Fault
    action: Action
    status: Mapping[Vendor, int | None]
    error: Mapping[Vendor, str]
    retry_after: float | None = None

    def expect(self, vendor: Vendor) -> tuple[int | None, str]:
        """``(status, error type)`` this fault is recorded as on ``vendor``."""
        return self.status[vendor], self.error[vendor]


def _both(value: Any) -> dict[Vendor, Any]:
    return {"anthropic": value, "openai": value}


KINDS: tuple[Kind, ...] = (
    Kind(
        "429-retry-after",
        Fault.rate_limited(retry_after=1.5),
        "retry",
        _both(429),
        {"anthropic": "rate_limit_error", "openai": "rate_limit_exceeded"},
        retry_after=1.5,
    ),
    Kind(
        "429-retry-after-ms",
        Fault.rate_limited(retry_after_ms=250),
        "retry",
        _both(429),
        {"anthropic": "rate_limit_error", "openai": "rate_limit_exceeded"},
        retry_after=0.25,
    ),
    Kind(
        "overloaded",
        Fault.overloaded(),
        "retry",
        {"anthropic": 529, "openai": 503},
        {"anthropic": "overloaded_error", "openai": "server_error"},
    ),
    Kind(
        "500",
        Fault.server_error(500),
        "retry",
        _both(500),
        {"anthropic": "api_error", "openai": "server_error"},
    ),
    Kind(
        "502",
        Fault.server_error(502),
        "retry",
        _both(502),
        {"anthropic": "api_error", "openai": "server_error"},
    ),
    Kind(
        "503",
        Fault.server_error(503),
        "retry",
        _both(503),
        {"anthropic": "api_error", "openai": "server_error"},
    ),
    Kind(
        "504",
        Fault.server_error(504),
        "retry",
        _both(504),
        {"anthropic": "timeout_error", "openai": "server_error"},
    ),
    Kind("timeout", Fault.timeout(), "retry", _both(None), _both("timeout")),
    Kind(
        "connection-reset",
        Fault.connection_reset(),
        "retry",
        _both(None),
        _both("connection_error"),
    ),
    Kind("malformed-body", Fault.malformed(), "reroute", _both(None), _both("malformed_response")),
    Kind(
        "401",
        Fault.unauthorized(),
        "reroute",
        _both(401),
        {"anthropic": "authentication_error", "openai": "invalid_api_key"},
    ),
    Kind(
        "404",
        Fault.not_found(),
        "reroute",
        _both(404),
        {"anthropic": "not_found_error", "openai": "model_not_found"},
    ),
    Kind(
        "context-too-long",
        Fault.context_too_long(),
        "reroute",
        _both(400),
        {"anthropic": "invalid_request_error", "openai": "context_length_exceeded"},
    ),
    Kind("400", Fault.bad_request(), "stop", _both(400), _both("invalid_request_error")),
)
