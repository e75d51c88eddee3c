"""Every fault kind, in every call mode, on one route and across providers.

Each test asserts what a user and an auditor see: the outcome, every attempt (route,
model, status, error type), that the vendor received exactly one request per attempt
although the user's SDK clients keep their default ``max_retries=2``, and exactly one
audit event describing the same attempts.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from relkit import KINDS, MODELS, TOOL_PROMPT, Harness, Kind, Vendor, requests_to, shape

from thinllm import Attempt, RequestRejectedError, Retry, RoutesExhaustedError
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

VENDORS: tuple[Vendor, ...] = ("anthropic", "openai")
KIND_PARAMS = [pytest.param(k, id=k.id) for k in KINDS]
RETRY_KIND_PARAMS = [pytest.param(k, id=k.id) for k in KINDS if k.action == "retry"]
VENDOR_PARAMS = [pytest.param(v, id=v) for v in VENDORS]
PAIRS = [
    pytest.param(("anthropic", "openai"), id="anthropic-to-openai"),
    pytest.param(("openai", "anthropic"), id="openai-to-anthropic"),
]
THREE = Retry(attempts=3, initial=0.5, maximum=8.0)


def _event_matches(sink: MemorySink, outcome: str, attempts: Sequence[Attempt]) -> None:
    assert 1 == len(sink.events)
    event = sink.events[0]
    assert outcome == event.outcome
    assert [a.as_dict() for a in attempts] == list(event.attempts)


def _failure(kind: Kind, vendor: Vendor, route: str | None = None) -> tuple[object, ...]:
    status, error = kind.expect(vendor)
    return (route or vendor, MODELS[vendor], status, error)


def _ok(vendor: Vendor) -> tuple[object, ...]:
    return (vendor, MODELS[vendor], 200, None)


class TestSingleRouteFaults:
    """One route; the fault happens once, then the vendor answers."""

    @pytest.mark.parametrize("vendor", VENDOR_PARAMS)
    @pytest.mark.parametrize("kind", KIND_PARAMS)
    def test_fault_once(
        self,
        harness: Harness,
        fake: FakeVendor,
        sink: MemorySink,
        kind: Kind,
        vendor: Vendor,
    ) -> None:
        """A transient fault is retried on the same route; anything else surfaces at once."""
        client = harness.client([vendor], sink=sink, retry=THREE)
        fake.fail(kind.fault)
        if kind.action == "retry":
            reply = harness.call(client)
            assert "ok" == reply.outcome
            assert "ok" == reply.text
            assert vendor == reply.route
            assert [_failure(kind, vendor), _ok(vendor)] == shape(reply.attempts)
            assert 2 == len(fake.requests)
            _event_matches(sink, "ok", list(reply.attempts))
            assert 1 == len(harness.clock.sleeps)
            if kind.retry_after is not None:
                assert [kind.retry_after] == harness.clock.sleeps
            else:
                assert 0.0 <= harness.clock.sleeps[0] <= THREE.initial
            return
        expected = RequestRejectedError if kind.action == "stop" else RoutesExhaustedError
        with pytest.raises(expected) as info:
            harness.call(client)
        assert expected is type(info.value)
        assert [_failure(kind, vendor)] == shape(info.value.attempts)
        assert 1 == len(fake.requests)
        assert [] == harness.clock.sleeps
        _event_matches(sink, "error", info.value.attempts)
        assert expected.error_type == sink.events[0].error["type"]  # type: ignore[index]

    @pytest.mark.parametrize("vendor", VENDOR_PARAMS)
    @pytest.mark.parametrize("kind", KIND_PARAMS)
    def test_fault_persists_and_fallback_runs(
        self,
        harness: Harness,
        fake: FakeVendor,
        sink: MemorySink,
        kind: Kind,
        vendor: Vendor,
    ) -> None:
        """When the only route keeps failing, the caller's fallback answers (outcome fallback)."""
        client = harness.client([vendor], sink=sink, retry=THREE)
        fake.fail(kind.fault, times=None)
        reply = harness.call(client, fallback=lambda: "queued for a human")
        tries = THREE.attempts if kind.action == "retry" else 1
        assert "fallback" == reply.outcome
        assert "queued for a human" == reply.value
        assert reply.route is None
        assert [_failure(kind, vendor)] * tries == shape(reply.attempts)
        assert tries == len(fake.requests)
        _event_matches(sink, "fallback", reply.attempts)
        if harness.mode in ("stream", "astream"):
            assert ["queued for a human"] == harness.streamed

    @pytest.mark.parametrize("kind", RETRY_KIND_PARAMS)
    def test_retries_exhausted_error_names_the_route_and_why(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, kind: Kind
    ) -> None:
        """Without a fallback the error carries every attempt and says what failed."""
        client = harness.client(["anthropic"], sink=sink, retry=THREE)
        fake.fail(kind.fault, times=None)
        with pytest.raises(RoutesExhaustedError) as info:
            harness.call(client)
        status, error = kind.expect("anthropic")
        assert 3 == len(info.value.attempts)
        assert "'anthropic': 3 attempts" in str(info.value)
        assert error in str(info.value)
        if status is not None:
            assert f"({status})" in str(info.value)
        _event_matches(sink, "error", info.value.attempts)


class TestCrossProviderFallback:
    """Two routes on different vendors; the first keeps failing."""

    @pytest.mark.parametrize("pair", PAIRS)
    @pytest.mark.parametrize("kind", KIND_PARAMS)
    def test_primary_fails(
        self,
        harness: Harness,
        fake: FakeVendor,
        sink: MemorySink,
        kind: Kind,
        pair: tuple[Vendor, Vendor],
    ) -> None:
        """The second vendor answers the same prompt, tools rendered in its own format."""
        first, second = pair
        client = harness.client([first, second], sink=sink, retry=THREE)
        fake.fail(kind.fault, times=None, vendor=first)
        if kind.action == "stop":
            with pytest.raises(RequestRejectedError) as info:
                harness.call(client, TOOL_PROMPT)
            assert [_failure(kind, first)] == shape(info.value.attempts)
            assert 0 == requests_to(fake, second)
            assert "no retry or other route was tried" in str(info.value)
            _event_matches(sink, "error", info.value.attempts)
            return
        reply = harness.call(client, TOOL_PROMPT)
        tries = THREE.attempts if kind.action == "retry" else 1
        assert "rerouted" == reply.outcome
        assert second == reply.route
        assert [_failure(kind, first)] * tries + [_ok(second)] == shape(reply.attempts)
        assert tries == requests_to(fake, first)
        assert 1 == requests_to(fake, second)
        _event_matches(sink, "rerouted", reply.attempts)
        assert second == sink.events[0].route
        _assert_tools_rendered(fake)

    @pytest.mark.parametrize("pair", PAIRS)
    def test_every_route_fails_error_names_each_route(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, pair: tuple[Vendor, Vendor]
    ) -> None:
        """With both vendors down the error lists each route with its last error."""
        first, second = pair
        client = harness.client([first, second], sink=sink, retry=Retry(attempts=2))
        fake.fail(KINDS[2].fault, times=None, vendor=first)  # overloaded
        fake.fail(KINDS[11].fault, times=None, vendor=second)  # 404
        with pytest.raises(RoutesExhaustedError) as info:
            harness.call(client)
        message = str(info.value)
        assert f"'{first}': 2 attempts, last" in message
        assert f"'{second}': 1 attempt, last" in message
        assert "(404)" in message
        assert 3 == len(info.value.attempts)
        assert isinstance(info.value.__cause__, Exception)
        _event_matches(sink, "error", info.value.attempts)

    @pytest.mark.parametrize("pair", PAIRS)
    def test_every_route_fails_fallback_runs(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, pair: tuple[Vendor, Vendor]
    ) -> None:
        """The prior workflow takes over only after every route was tried."""
        first, second = pair
        client = harness.client([first, second], sink=sink, retry=Retry(attempts=2))
        fake.fail(KINDS[0].fault, times=None)  # 429 everywhere
        reply = harness.call(client, fallback=lambda: {"queue": "legacy"})
        assert "fallback" == reply.outcome
        assert {"queue": "legacy"} == reply.value
        assert 2 == requests_to(fake, first) == requests_to(fake, second)
        assert [first, first, second, second] == [a.route for a in reply.attempts]
        _event_matches(sink, "fallback", reply.attempts)


class TestNoSdkRetryMultiplication:
    """thinllm owns retries: the SDK's own retry loop never multiplies requests."""

    @pytest.mark.parametrize("vendor", VENDOR_PARAMS)
    def test_user_client_keeps_default_retries_yet_one_request_per_attempt(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, vendor: Vendor
    ) -> None:
        """The user's client still has max_retries=2, but 4 attempts are exactly 4 requests."""
        route = harness.route(vendor, retry=Retry(attempts=4))
        assert 2 == route.client.max_retries
        client = harness.client([route], sink=sink)
        fake.fail(KINDS[4].fault, times=None)  # 500
        reply = harness.call(client, fallback=lambda: "later")
        assert 4 == len(reply.attempts) == len(fake.requests)
        assert 2 == route.client.max_retries  # the user's object was not modified
        assert {"0", "None"} >= {
            r.headers.get("x-stainless-retry-count", "None") for r in fake.requests
        }


class TestStreamingRule:
    """Streams: retried until the first text delta, never restarted after it."""

    @pytest.mark.parametrize("pair", PAIRS)
    @pytest.mark.parametrize("mode", ["stream", "astream"])
    def test_cut_before_first_delta_is_retried(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, pair: tuple[Vendor, Vendor]
    ) -> None:
        """A stream that breaks before any text is just a failed attempt: retried."""
        first, _ = pair
        fake.reply("hello there big world")
        client = harness.client(list(pair), sink=sink, retry=THREE)
        fake.fail(Fault.stream_cut(after_chunks=0), vendor=first)
        reply = harness.call(client)
        assert "ok" == reply.outcome
        assert "hello there big world" == "".join(harness.streamed) == reply.text
        assert [(first, MODELS[first], None, "connection_error"), _ok(first)] == shape(
            reply.attempts
        )
        assert 2 == len(fake.requests)
        _event_matches(sink, "ok", reply.attempts)

    @pytest.mark.parametrize("pair", PAIRS)
    @pytest.mark.parametrize("mode", ["stream", "astream"])
    def test_cut_after_text_surfaces_and_is_not_restarted(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, pair: tuple[Vendor, Vendor]
    ) -> None:
        """Text already shown is never repeated: StreamInterruptedError, no second request."""
        from thinllm import StreamInterruptedError

        first, _ = pair
        fake.reply("hello there big world")
        client = harness.client(list(pair), sink=sink, retry=THREE)
        fake.fail(Fault.stream_cut(after_chunks=2), vendor=first)
        with pytest.raises(StreamInterruptedError) as info:
            harness.call(client, fallback=lambda: "not used")
        assert "hello there " == info.value.received
        assert 1 == len(fake.requests)
        assert 1 == len(sink.events)
        event = sink.events[0]
        assert "error" == event.outcome
        assert "stream_interrupted" == event.error["type"]  # type: ignore[index]
        assert [first] == [a["route"] for a in event.attempts]
        assert "stream_interrupted" == event.attempts[0]["error"]

    @pytest.mark.parametrize("mode", ["stream", "astream"])
    def test_stream_that_is_not_a_stream_is_rerouted(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """A 200 whose body is not an event stream is a malformed answer, not an empty reply."""
        client = harness.client(["anthropic", "openai"], sink=sink, retry=THREE)
        fake.fail(KINDS[9].fault, vendor="anthropic")  # malformed body
        reply = harness.call(client)
        assert "rerouted" == reply.outcome
        assert "ok" == reply.text
        assert [
            ("anthropic", MODELS["anthropic"], None, "malformed_response"),
            _ok("openai"),
        ] == shape(reply.attempts)


def _assert_tools_rendered(fake: FakeVendor) -> None:
    """Each vendor received the one neutral tool in its own wire format."""
    for request in fake.requests:
        tools = request.body["tools"]
        assert 1 == len(tools)
        if request.vendor == "anthropic":
            assert "lookup_order" == tools[0]["name"]
            assert ["order_id"] == tools[0]["input_schema"]["required"]
        elif request.api == "chat":
            assert "function" == tools[0]["type"]
            assert "lookup_order" == tools[0]["function"]["name"]
            assert ["order_id"] == tools[0]["function"]["parameters"]["required"]
