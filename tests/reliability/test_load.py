"""A bounded load test: 500 concurrent async calls over real loopback HTTP, random faults.

Every call must end in a defined outcome and be audited exactly once; nothing may
deadlock; memory must stay flat from one batch to the next.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from collections import Counter

import anthropic
import httpx2
import openai
import pytest
from relkit import PROMPT, tried

from thinllm import Circuit, Client, Reply, Retry, Route, RoutesExhaustedError, Tags
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

CALLS = 500
#: A guard, not a timing assertion: a deadlock fails the test instead of hanging CI.
GUARD = 120.0
#: Memory a second batch may add over the first (generous: allocator noise, caches).
MEMORY_BOUND = 8 * 1024 * 1024
FAULTS = [
    Fault.rate_limited(retry_after_ms=1),
    Fault.overloaded(),
    Fault.server_error(500),
    Fault.server_error(502),
    Fault.server_error(503),
    Fault.server_error(504),
    Fault.connection_reset(),
    Fault.malformed(),
    Fault.not_found(),
    Fault.unauthorized(),
    Fault.context_too_long(),
    Fault.bad_request(),
]
DEFINED = {"ok", "rerouted", "fallback", "error"}


async def _no_wait(_: float) -> None:
    """Retry waits are skipped: this test is about concurrency, not backoff."""


def _script(fake: FakeVendor, rng: random.Random) -> None:
    fake.reset()
    fake.reply("ok")
    for _ in range(CALLS // 3):
        fake.fail(rng.choice(FAULTS))
    # A few stalls: the client's own request timeout ends them.
    for _ in range(5):
        fake.fail(Fault.timeout())


async def _batch(client: Client, rng: random.Random) -> list[Reply | RoutesExhaustedError]:
    async def one(i: int) -> Reply | RoutesExhaustedError:
        fallback = (lambda: "legacy") if rng.random() < 0.5 else None
        tags = Tags(user=f"user-{i}", workflow="load", cost_center="qa")
        try:
            return await client.acomplete(PROMPT, tags=tags, max_tokens=16, fallback=fallback)
        except RoutesExhaustedError as exc:
            return exc

    return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(CALLS))), GUARD)


def _check(results: list[Reply | RoutesExhaustedError], sink: MemorySink, fake: FakeVendor) -> None:
    outcomes = Counter(r.outcome if isinstance(r, Reply) else "error" for r in results)
    assert DEFINED >= set(outcomes)
    assert CALLS == sum(outcomes.values())
    assert CALLS == len(sink.events) == len({e.call_id for e in sink.events})
    assert outcomes == Counter(e.outcome for e in sink.events)
    attempts = [a for r in results for a in r.attempts]
    # Never more requests than attempts (no SDK retry multiplication). Over real sockets
    # an attempt can fail before its request is written (listen backlog full, a stale
    # keep-alive connection): it is a recorded attempt the vendor never saw, and only
    # a transport error can be one.
    unseen = tried(attempts) - len(fake.requests)
    transport = sum(1 for a in attempts if a.error in ("timeout", "connection_error"))
    assert 0 <= unseen <= transport


@pytest.mark.slow
class TestLoad:
    def test_500_concurrent_calls_with_random_faults(self, fake: FakeVendor) -> None:
        """Under concurrency and faults every call ends defined, audited once, memory flat."""
        rng = random.Random(20260501)
        sink = MemorySink()
        with fake.serve() as base_url:

            async def scenario() -> int:
                # A pool the threaded fake server keeps up with; callers queue for it
                # (pool wait is not a failure), stalled answers time out after 2 s.
                limits = httpx2.Limits(max_connections=32, max_keepalive_connections=32)
                timeout = httpx2.Timeout(2.0, connect=10.0, pool=GUARD)
                a = anthropic.AsyncAnthropic(
                    base_url=base_url,
                    api_key="k",
                    timeout=timeout,
                    http_client=httpx2.AsyncClient(limits=limits),
                )
                o = openai.AsyncOpenAI(
                    base_url=base_url,
                    api_key="k",
                    timeout=timeout,
                    http_client=httpx2.AsyncClient(limits=limits),
                )
                client = Client(
                    [
                        Route(a, model="claude-sonnet-5-5", name="claude"),
                        Route(o, model="gpt-6.1-terra", name="gpt"),
                    ],
                    sinks=[sink],
                    retry=Retry(attempts=2),
                    # Faults are random, not an outage: keep every route in play.
                    circuit=Circuit(failures=1_000_000),
                    asleep=_no_wait,
                )
                try:
                    _script(fake, rng)
                    _check(await _batch(client, rng), sink, fake)
                    sink.clear()
                    _script(fake, rng)
                    gc.collect()
                    tracemalloc.start()
                    try:
                        before = tracemalloc.get_traced_memory()[0]
                        results = await _batch(client, rng)
                        _check(results, sink, fake)
                        del results
                        sink.clear()
                        fake.reset()
                        gc.collect()
                        grown = tracemalloc.get_traced_memory()[0] - before
                    finally:
                        tracemalloc.stop()
                finally:
                    await a.close()
                    await o.close()
                return grown

            grown = asyncio.run(scenario())
        assert grown < MEMORY_BOUND
