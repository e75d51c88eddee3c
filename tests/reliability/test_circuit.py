"""Circuit breaker: a failing route is skipped for a cool-down, then tried once.

This is what keeps a fleet of callers from hammering a vendor that is down: once the
circuit is open, calls skip the route without contacting the vendor.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import anthropic
import httpx2
import pytest
from relkit import EPOCH, PROMPT, FakeClock, Harness, shape, tried

from thinllm import Circuit, Client, Reply, Retry, Route, RoutesExhaustedError, ThinLLMError
from thinllm._retry import Breaker
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault
from thinllm.testing._vendor import ANTHROPIC_BASE_URL

#: Guard for waits on other threads/tasks: a deadlock fails the test instead of hanging it.
GUARD = 10.0
CIRCUIT = Circuit(failures=3, cooldown=30.0)


def _open_the_circuit(harness: Harness, client: Client, fake: FakeVendor) -> None:
    fake.fail(Fault.server_error(503), times=3)
    with pytest.raises(RoutesExhaustedError):
        harness.call(client)


class TestBreakerUnit:
    def test_opens_after_consecutive_failures_only(self) -> None:
        """A success in between resets the count: only a run of failures opens it."""
        breaker = Breaker(Circuit(failures=3, cooldown=10.0))
        breaker.failure(0.0)
        breaker.failure(0.0)
        breaker.success()
        breaker.failure(0.0)
        breaker.failure(0.0)
        assert "closed" == breaker.state(0.0)
        breaker.failure(1.0)
        assert "open" == breaker.state(1.0)
        assert not breaker.allow(10.9)
        assert "half-open" == breaker.state(11.0)

    def test_one_trial_at_a_time(self) -> None:
        """Half-open lets exactly one trial through; the rest keep skipping."""
        breaker = Breaker(Circuit(failures=1, cooldown=5.0))
        breaker.failure(0.0)
        assert [True, False, False] == [breaker.allow(5.0) for _ in range(3)]

    def test_failed_trial_reopens_for_a_full_cooldown(self) -> None:
        """A trial that fails opens the circuit again from that moment."""
        breaker = Breaker(Circuit(failures=2, cooldown=5.0))
        breaker.failure(0.0)
        breaker.failure(0.0)
        assert breaker.allow(5.0)
        breaker.failure(6.0)
        assert "open" == breaker.state(10.0)
        assert not breaker.allow(10.9)
        assert breaker.allow(11.0)

    def test_abandoned_trial_expires(self) -> None:
        """A trial whose caller vanished (cancelled) does not wedge the circuit open forever."""
        breaker = Breaker(Circuit(failures=1, cooldown=5.0))
        breaker.failure(0.0)
        assert breaker.allow(5.0)  # the trial's caller is cancelled and never reports
        assert not breaker.allow(9.9)
        assert breaker.allow(10.0)

    def test_released_trial_can_be_claimed_again(self) -> None:
        """A trial given back unused lets the next caller try at once."""
        breaker = Breaker(Circuit(failures=1, cooldown=5.0))
        breaker.failure(0.0)
        assert breaker.allow(5.0)
        breaker.release_trial()
        assert breaker.allow(5.0)

    def test_many_threads_claim_one_trial(self) -> None:
        """Under a thread race exactly one caller wins the half-open trial."""
        breaker = Breaker(Circuit(failures=1, cooldown=1.0))
        breaker.failure(0.0)
        barrier = threading.Barrier(16)

        def claim() -> bool:
            barrier.wait(GUARD)
            return breaker.allow(2.0)

        with ThreadPoolExecutor(16) as pool:
            wins = list(pool.map(lambda _: claim(), range(16)))
        assert 1 == sum(wins)


class TestCircuitThroughTheClient:
    def test_opens_and_skips_without_contacting_the_vendor(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """After N failures calls skip the route: recorded as skipped, no request sent."""
        client = harness.client(["anthropic"], sink=sink, retry=Retry(attempts=3), circuit=CIRCUIT)
        _open_the_circuit(harness, client, fake)
        assert {"circuit": "open", "consecutive_failures": 3} == client.health()["anthropic"]
        with pytest.raises(RoutesExhaustedError) as info:
            harness.call(client)
        assert [("anthropic", "claude-sonnet-5-5", None, None)] == shape(info.value.attempts)
        assert "circuit open" == info.value.attempts[0].skipped
        assert "skipped (circuit open)" in str(info.value)
        assert 3 == len(fake.requests)
        assert 2 == len(sink.events)
        assert "circuit open" == sink.events[-1].attempts[0]["skipped"]

    def test_open_circuit_sends_calls_to_the_next_route(
        self, harness: Harness, fake: FakeVendor
    ) -> None:
        """With the primary's circuit open, calls go straight to the fallback route."""
        client = harness.client(["anthropic", "openai"], retry=Retry(attempts=3), circuit=CIRCUIT)
        fake.fail(Fault.overloaded(), times=3, vendor="anthropic")
        first = harness.call(client)
        assert "rerouted" == first.outcome
        second = harness.call(client)
        assert "rerouted" == second.outcome
        assert ["circuit open", None] == [a.skipped for a in second.attempts]
        assert 3 == sum(1 for r in fake.requests if r.vendor == "anthropic")

    def test_circuit_stops_retrying_mid_call(self, harness: Harness, fake: FakeVendor) -> None:
        """Retries on a route stop as soon as its circuit opens (no retry storm)."""
        client = harness.client(
            ["anthropic"], retry=Retry(attempts=10), circuit=Circuit(failures=2, cooldown=60.0)
        )
        fake.fail(Fault.timeout(), times=None)
        reply = harness.call(client, fallback=lambda: "legacy")
        assert "fallback" == reply.outcome
        assert [None, None, "circuit open"] == [a.skipped for a in reply.attempts]
        assert 2 == len(fake.requests)

    def test_half_open_trial_closes_on_success(self, harness: Harness, fake: FakeVendor) -> None:
        """After the cool-down one trial goes through; its success closes the circuit."""
        client = harness.client(["anthropic"], retry=Retry(attempts=3), circuit=CIRCUIT)
        _open_the_circuit(harness, client, fake)
        harness.clock.advance(29.0)
        assert "open" == client.health()["anthropic"]["circuit"]
        harness.clock.advance(1.0)
        assert "half-open" == client.health()["anthropic"]["circuit"]
        reply = harness.call(client)
        assert "ok" == reply.outcome
        assert {"circuit": "closed", "consecutive_failures": 0} == client.health()["anthropic"]
        assert 4 == len(fake.requests)

    def test_half_open_trial_failure_reopens(self, harness: Harness, fake: FakeVendor) -> None:
        """A failed trial opens the circuit again: one request, not a retry burst."""
        client = harness.client(["anthropic"], retry=Retry(attempts=3), circuit=CIRCUIT)
        _open_the_circuit(harness, client, fake)
        harness.clock.advance(30.0)
        fake.fail(Fault.server_error(500), times=None)
        reply = harness.call(client, fallback=lambda: "legacy")
        assert [None, "circuit open"] == [a.skipped for a in reply.attempts]
        assert 4 == len(fake.requests)
        assert "open" == client.health()["anthropic"]["circuit"]

    def test_bad_requests_do_not_open_the_circuit(self, harness: Harness, fake: FakeVendor) -> None:
        """A 4xx says the request was wrong, not that the vendor is down."""
        client = harness.client(["anthropic"], retry=Retry(attempts=1), circuit=CIRCUIT)
        for fault in (Fault.bad_request(), Fault.not_found(), Fault.unauthorized()) * 2:
            fake.fail(fault)
            with pytest.raises(RoutesExhaustedError):
                harness.call(client)
        assert "closed" == client.health()["anthropic"]["circuit"]

    def test_health_lists_every_route(self, harness: Harness) -> None:
        """health() names each route with its state, for dashboards."""
        client = harness.client(["anthropic", "openai"])
        assert {
            "anthropic": {"circuit": "closed", "consecutive_failures": 0},
            "openai": {"circuit": "closed", "consecutive_failures": 0},
        } == client.health()

    def test_route_circuit_overrides_the_client_circuit(
        self, harness: Harness, fake: FakeVendor
    ) -> None:
        """Route(circuit=...) wins over Client(circuit=...) for that route."""
        route = harness.route("anthropic", circuit=Circuit(failures=1, cooldown=5.0))
        client = harness.client([route, "openai"], retry=Retry(attempts=1), circuit=CIRCUIT)
        fake.fail(Fault.server_error(500), times=2, vendor="anthropic")
        assert "rerouted" == harness.call(client).outcome
        assert ["circuit open", None] == [a.skipped for a in harness.call(client).attempts]
        assert "open" == client.health()["anthropic"]["circuit"]
        assert "closed" == client.health()["openai"]["circuit"]


class _GatedTransport(httpx2.BaseTransport):
    """Holds every request at a gate until the test releases it (a slow vendor)."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.entered.set()
        assert self.release.wait(GUARD), "the test never released the gate"
        return self._inner.handle_request(request)


class _AsyncGatedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.entered.set()
        await asyncio.wait_for(self.release.wait(), GUARD)
        return await self._inner.handle_async_request(request)


def _opened(client: Client, clock: FakeClock) -> None:
    breaker = client._breakers["claude"]
    for _ in range(CIRCUIT.failures):
        breaker.failure(clock())
    clock.advance(CIRCUIT.cooldown)
    assert "half-open" == client.health()["claude"]["circuit"]


class TestConcurrentHalfOpen:
    def test_threads_let_exactly_one_trial_through(self, fake: FakeVendor) -> None:
        """Sixteen threads hit a half-open route: one request reaches the vendor."""
        clock = FakeClock()
        gate = _GatedTransport(fake.transport())
        sdk = anthropic.Anthropic(
            api_key="k", base_url=ANTHROPIC_BASE_URL, http_client=httpx2.Client(transport=gate)
        )
        sink = MemorySink()
        client = Client(
            [Route(sdk, model="claude-sonnet-5-5", name="claude")],
            sinks=[sink],
            circuit=CIRCUIT,
            clock=clock,
            sleep=clock.sleep,
        )
        _opened(client, clock)
        barrier = threading.Barrier(16)

        def call(_: int) -> Reply:
            barrier.wait(GUARD)
            return client.complete(PROMPT, max_tokens=16, fallback=lambda: "legacy")

        try:
            with ThreadPoolExecutor(16) as pool:
                pending = {pool.submit(call, i) for i in range(16)}
                futures = list(pending)
                assert gate.entered.wait(GUARD)
                # Everyone but the trial finishes without touching the vendor.
                while len(pending) > 1:
                    done, pending = wait(pending, timeout=GUARD, return_when=FIRST_COMPLETED)
                    assert done, "calls hung while the trial was in flight"
                assert 0 == len(fake.requests)  # the trial is still held at the gate
                gate.release.set()
                replies = [f.result(GUARD) for f in futures]
        finally:
            gate.release.set()
            sdk.close()
        outcomes = Counter(r.outcome for r in replies)
        assert {"ok": 1, "fallback": 15} == dict(outcomes)
        assert 1 == len(fake.requests)
        assert 16 == len(sink.events)
        assert "closed" == client.health()["claude"]["circuit"]

    def test_gathered_tasks_let_exactly_one_trial_through(self, fake: FakeVendor) -> None:
        """Sixteen asyncio tasks hit a half-open route: one request reaches the vendor."""
        clock = FakeClock()
        sink = MemorySink()

        async def scenario() -> list[Reply]:
            gate = _AsyncGatedTransport(fake.async_transport())
            sdk = anthropic.AsyncAnthropic(
                api_key="k",
                base_url=ANTHROPIC_BASE_URL,
                http_client=httpx2.AsyncClient(transport=gate),
            )
            client = Client(
                [Route(sdk, model="claude-sonnet-5-5", name="claude")],
                sinks=[sink],
                circuit=CIRCUIT,
                clock=clock,
                asleep=clock.asleep,
            )
            _opened(client, clock)
            finished: list[Reply] = []

            async def call() -> Reply:
                reply = await client.acomplete(PROMPT, max_tokens=16, fallback=lambda: "legacy")
                finished.append(reply)
                return reply

            async def release_when_others_done() -> None:
                while len(finished) < 15:
                    await asyncio.sleep(0)
                gate.release.set()

            try:
                tasks = [call() for _ in range(16)]
                results = await asyncio.wait_for(
                    asyncio.gather(*tasks, release_when_others_done()), GUARD
                )
            finally:
                await sdk.close()
            assert "closed" == client.health()["claude"]["circuit"]
            return [r for r in results if isinstance(r, Reply)]

        replies = asyncio.run(scenario())
        assert {"ok": 1, "fallback": 15} == dict(Counter(r.outcome for r in replies))
        assert 1 == len(fake.requests)
        assert 16 == len(sink.events)

    def test_cancelled_trial_does_not_wedge_the_circuit(self, fake: FakeVendor) -> None:
        """A trial cancelled by its caller is recorded, and a later trial is let through."""
        clock = FakeClock()
        sink = MemorySink()

        async def scenario() -> Reply:
            gate = _AsyncGatedTransport(fake.async_transport())
            sdk = anthropic.AsyncAnthropic(
                api_key="k",
                base_url=ANTHROPIC_BASE_URL,
                http_client=httpx2.AsyncClient(transport=gate),
            )
            client = Client(
                [Route(sdk, model="claude-sonnet-5-5", name="claude")],
                sinks=[sink],
                circuit=CIRCUIT,
                clock=clock,
                asleep=clock.asleep,
            )
            _opened(client, clock)
            try:
                trial = asyncio.ensure_future(client.acomplete(PROMPT, max_tokens=16))
                await asyncio.wait_for(gate.entered.wait(), GUARD)
                trial.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await trial
                clock.advance(CIRCUIT.cooldown)
                gate.release.set()
                return await asyncio.wait_for(client.acomplete(PROMPT, max_tokens=16), GUARD)
            finally:
                await sdk.close()

        reply = asyncio.run(scenario())
        assert "ok" == reply.outcome
        assert 2 == len(sink.events)
        assert "error" == sink.events[0].outcome


class TestThreadSafety:
    def test_thread_pool_with_random_faults(self, fake: FakeVendor) -> None:
        """Many threads, random faults: every call ends defined, audited once, counted right."""
        rng = random.Random(42)
        kinds = [Fault.server_error(500), Fault.overloaded(), Fault.timeout(), Fault.not_found()]
        for _ in range(150):
            fake.fail(rng.choice(kinds), vendor="anthropic")
        clock = FakeClock(EPOCH)
        sink = MemorySink()
        primary = fake.anthropic()
        secondary = fake.openai()
        client = Client(
            [
                Route(primary, model="claude-sonnet-5-5", name="a"),
                Route(secondary, model="gpt-6.1-terra", name="b"),
            ],
            sinks=[sink],
            retry=Retry(attempts=2),
            circuit=Circuit(failures=4, cooldown=0.0),
            clock=clock,
            sleep=lambda _: None,
        )

        def call(i: int) -> Reply | ThinLLMError:
            try:
                return client.complete(PROMPT, max_tokens=16, tags={"user": f"u{i}"})
            except ThinLLMError as exc:
                return exc

        try:
            with ThreadPoolExecutor(12) as pool:
                results = list(pool.map(call, range(300)))
        finally:
            primary.close()
            secondary.close()
        replies = [r for r in results if isinstance(r, Reply)]
        assert 300 == len(replies)  # the second route always answers
        assert {"ok", "rerouted"} >= {r.outcome for r in replies}
        assert 300 == len(sink.events) == len({e.call_id for e in sink.events})
        assert sum(tried(r.attempts) for r in replies) == len(fake.requests)
