"""Helpers for batch tests: both vendors' batch APIs through the real SDKs and the fake."""

from __future__ import annotations

from typing import Any

import httpx2

from thinllm import Client, Prompt, Route, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

#: (route api, model) per vendor wire format; "chat"/"responses" are OpenAI's.
VENDORS = {
    "anthropic": ("messages", "claude-sonnet-5-5"),
    "openai-chat": ("chat", "gpt-6.1-terra"),
    "openai-responses": ("responses", "gpt-6.1-terra"),
}


class FakeClock:
    """A clock that only moves when the injected sleep is called."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Reversing(httpx2.BaseTransport):
    """Hands the fake's batch results back in reverse order, as a real vendor may."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        path = request.url.path
        if request.method == "GET" and path.endswith(("/results", "/content")):
            lines = response.read().splitlines(keepends=True)
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            return httpx2.Response(
                response.status_code,
                headers=headers,
                content=b"".join(reversed(lines)),
                request=request,
            )
        return response


def vendor_client(fake: FakeVendor, vendor: str, *, reverse: bool = False) -> Any:
    """A real SDK client for ``vendor`` wired to ``fake``."""
    transport = Reversing(fake.transport()) if reverse else fake.transport()
    http = httpx2.Client(transport=transport)
    if vendor == "anthropic":
        return fake.anthropic(max_retries=0, http_client=http)
    return fake.openai(max_retries=0, http_client=http)


def make_route(
    fake: FakeVendor, vendor: str, *, name: str | None = None, reverse: bool = False
) -> Route:
    """A route for ``vendor`` on ``fake``."""
    api, model = VENDORS[vendor]
    return Route(vendor_client(fake, vendor, reverse=reverse), model=model, api=api, name=name)


def make_client(
    fake: FakeVendor,
    vendor: str,
    clock: FakeClock,
    sink: MemorySink | None = None,
    *,
    reverse: bool = False,
    **kwargs: Any,
) -> Client:
    """A client with one route for ``vendor``, an injected clock and sleep."""
    return Client(
        [make_route(fake, vendor, reverse=reverse)],
        sinks=[sink] if sink is not None else [],
        clock=clock,
        sleep=clock.sleep,
        asleep=clock.asleep,
        **kwargs,
    )


def prompts(n: int, *, system: str = "Label the ticket.") -> list[Prompt]:
    """``n`` small prompts whose user text is ``q<i>``."""
    return [Prompt(system=system, messages=[user(f"q{i}")]) for i in range(n)]
