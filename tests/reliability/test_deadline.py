"""A call's deadline bounds every retry, every wait and every route.

Time is a fake clock: it moves when the client waits and when a request travels the
simulated network (which honours the per-request timeout the client passes).
"""

from __future__ import annotations

import pytest
from relkit import Harness, Mode, shape

from thinllm import Retry, RoutesExhaustedError
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault


def _elapsed(harness: Harness, start: float) -> float:
    return harness.clock() - start


class TestDeadline:
    def test_retry_after_beyond_the_deadline_is_not_waited(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """A 429 asking for longer than the time left ends the route instead of oversleeping."""
        client = harness.client(["anthropic"], sink=sink, retry=Retry(attempts=5))
        fake.fail(Fault.rate_limited(retry_after=2), times=None)
        start = harness.clock()
        with pytest.raises(RoutesExhaustedError) as info:
            harness.call(client, deadline=3.0)
        assert [2.0] == harness.clock.sleeps
        assert 2 == len(info.value.attempts) == len(fake.requests)
        assert _elapsed(harness, start) <= 3.0
        assert 1 == len(sink.events)

    def test_retry_deadline_on_the_client_policy(self, harness: Harness, fake: FakeVendor) -> None:
        """Retry(deadline=...) on the client bounds calls that pass no deadline of their own."""
        client = harness.client(
            ["openai"], retry=Retry(attempts=10, initial=1.0, jitter=False, deadline=6.0)
        )
        fake.fail(Fault.server_error(502), times=None)
        start = harness.clock()
        reply = harness.call(client, fallback=lambda: "legacy")
        assert "fallback" == reply.outcome
        assert [1.0, 2.0] == harness.clock.sleeps  # the next wait (4.0) would pass 6.0
        assert _elapsed(harness, start) <= 6.0

    def test_call_deadline_overrides_the_policy_deadline(
        self, harness: Harness, fake: FakeVendor
    ) -> None:
        """deadline= on the call wins over Retry(deadline=...)."""
        client = harness.client(
            ["openai"], retry=Retry(attempts=10, initial=1.0, jitter=False, deadline=100.0)
        )
        fake.fail(Fault.server_error(502), times=None)
        harness.call(client, fallback=lambda: "legacy", deadline=2.5)
        assert [1.0] == harness.clock.sleeps

    def test_slow_primary_leaves_the_rest_to_the_next_route(
        self, fake: FakeVendor, mode: Mode, sink: MemorySink
    ) -> None:
        """The remaining time becomes the next route's request timeout; the call ends in time."""
        harness = Harness(fake, mode, latency={"anthropic": 1.0, "openai": 1.0})
        try:
            client = harness.client(
                ["anthropic", "openai"],
                sink=sink,
                retry=Retry(attempts=5, initial=1.0, jitter=False),
            )
            fake.fail(Fault.server_error(500), times=None, vendor="anthropic")
            start = harness.clock()
            reply = harness.call(client, deadline=4.5)
            # anthropic: 0-1 fails, wait 1, 2-3 fails, next wait (2) would pass 4.5;
            # openai at 3 answers at 4.
            assert "rerouted" == reply.outcome
            assert ["anthropic", "anthropic", "openai"] == [a.route for a in reply.attempts]
            assert 4.0 == pytest.approx(_elapsed(harness, start))
        finally:
            harness.close()

    def test_request_timeout_is_the_time_left(
        self, fake: FakeVendor, mode: Mode, sink: MemorySink
    ) -> None:
        """A route that answers too slowly is cut at the deadline, and the next one skipped."""
        harness = Harness(fake, mode, latency={"anthropic": 10.0})
        try:
            client = harness.client(["anthropic", "openai"], sink=sink, retry=Retry(attempts=3))
            start = harness.clock()
            with pytest.raises(RoutesExhaustedError) as info:
                harness.call(client, deadline=2.0)
            assert 2.0 == pytest.approx(_elapsed(harness, start))
            assert [
                ("anthropic", "claude-sonnet-5-5", None, "timeout"),
                ("openai", "gpt-6.1-terra", None, None),
            ] == shape(info.value.attempts)
            assert "deadline" == info.value.attempts[-1].skipped
            assert "deadline passed" in str(info.value)
            assert 0 == sum(1 for r in fake.requests if r.vendor == "openai")
            assert 1 == len(sink.events)
            assert "error" == sink.events[0].outcome
        finally:
            harness.close()

    def test_deadline_passed_with_fallback(self, fake: FakeVendor, mode: Mode) -> None:
        """Out of time, the prior workflow still answers (outcome fallback)."""
        harness = Harness(fake, mode, latency={"openai": 10.0})
        try:
            client = harness.client(["openai"])
            start = harness.clock()
            reply = harness.call(client, deadline=1.0, fallback=lambda: "legacy")
            assert "fallback" == reply.outcome
            assert "legacy" == reply.value
            assert 1.0 == pytest.approx(_elapsed(harness, start))
        finally:
            harness.close()

    @pytest.mark.parametrize("deadline", [0.0, -1.0])
    def test_non_positive_deadline_is_refused(self, harness: Harness, deadline: float) -> None:
        """deadline=0 is a mistake, reported before anything is sent."""
        from thinllm import ConfigurationError

        client = harness.client(["anthropic"])
        with pytest.raises(ConfigurationError, match="deadline"):
            harness.call(client, deadline=deadline)
