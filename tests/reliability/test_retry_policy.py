"""Retry policy: what is retried, how long it waits, and which policy applies."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import anthropic
import httpx2
import openai
import pytest
from relkit import Harness

from thinllm import ConfigurationError, Retry, RoutesExhaustedError
from thinllm._failures import EmptyStreamError, classify
from thinllm._retry import Circuit
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

_REQUEST = httpx2.Request("POST", "http://vendor.test/v1/messages")


def _status_error(
    sdk: str, status: int, *, headers: dict[str, str] | None = None, body: object = None
) -> Exception:
    """A real SDK status error, as the SDK builds it from a response."""
    response = httpx2.Response(status, headers=headers or {}, request=_REQUEST)
    if sdk == "anthropic":
        return anthropic.APIStatusError("vendor says no", response=response, body=body)
    return openai.APIStatusError("vendor says no", response=response, body=body)


class TestRetryValidation:
    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"attempts": 0}, id="zero-attempts"),
            pytest.param({"attempts": 1.5}, id="float-attempts"),
            pytest.param({"initial": -1.0}, id="negative-initial"),
            pytest.param({"maximum": -1.0}, id="negative-maximum"),
            pytest.param({"deadline": 0.0}, id="zero-deadline"),
        ],
    )
    def test_nonsense_policies_are_refused(self, kwargs: dict[str, float]) -> None:
        """A policy that cannot mean anything fails where it is written, not mid-call."""
        with pytest.raises(ConfigurationError):
            Retry(**kwargs)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"failures": 0}, id="zero-failures"),
            pytest.param({"cooldown": -1.0}, id="neg"),
        ],
    )
    def test_nonsense_circuits_are_refused(self, kwargs: dict[str, float]) -> None:
        """A circuit that could never close or open is a configuration error."""
        with pytest.raises(ConfigurationError):
            Circuit(**kwargs)  # type: ignore[arg-type]


class TestBackoff:
    def test_waits_double_up_to_the_maximum_without_jitter(self) -> None:
        """Exponential backoff: 0.5, 1, 2, 4, then capped at maximum."""
        policy = Retry(attempts=7, initial=0.5, maximum=5.0, jitter=False)
        assert [0.5, 1.0, 2.0, 4.0, 5.0, 5.0] == [policy.backoff(n, None, 0.3) for n in range(1, 7)]

    def test_jitter_stays_below_the_exponential_ceiling(self) -> None:
        """Full jitter never waits longer than the un-jittered backoff, nor less than zero."""
        policy = Retry(attempts=10, initial=0.5, maximum=8.0, jitter=True)
        rng = random.Random(7)
        for n in range(1, 10):
            ceiling = min(8.0, 0.5 * 2 ** (n - 1))
            for _ in range(50):
                assert 0.0 <= policy.backoff(n, None, rng.random()) <= ceiling

    @pytest.mark.parametrize(
        ("retry_after", "expected"),
        [
            pytest.param(1.5, 1.5, id="honoured"),
            pytest.param(0.0, 0.0, id="zero"),
            pytest.param(30.0, 8.0, id="capped-at-maximum"),
        ],
    )
    def test_retry_after_wins_over_backoff_but_is_capped(
        self, retry_after: float, expected: float
    ) -> None:
        """The server's retry-after replaces the backoff (no jitter), capped by maximum."""
        assert expected == Retry(maximum=8.0).backoff(3, retry_after, 0.99)


class TestWaitsThroughTheClient:
    """The injected sleep sees exactly the waits the policy promises."""

    @pytest.mark.parametrize(
        ("fault", "maximum", "expected"),
        [
            pytest.param(Fault.rate_limited(retry_after=2), 8.0, [2.0, 2.0], id="retry-after"),
            pytest.param(Fault.rate_limited(retry_after_ms=1250), 8.0, [1.25, 1.25], id="ms"),
            pytest.param(Fault.rate_limited(retry_after=60), 3.0, [3.0, 3.0], id="capped"),
            pytest.param(
                Fault.rate_limited(retry_after=5, retry_after_ms=100), 8.0, [0.1, 0.1], id="ms-wins"
            ),
        ],
    )
    def test_retry_after_is_honoured_and_capped(
        self,
        harness: Harness,
        fake: FakeVendor,
        fault: Fault,
        maximum: float,
        expected: list[float],
    ) -> None:
        """429 with retry-after waits what the vendor asked, never more than Retry.maximum."""
        client = harness.client(["openai"], retry=Retry(attempts=3, maximum=maximum))
        fake.fail(fault, times=2)
        reply = harness.call(client)
        assert "ok" == reply.outcome
        assert expected == harness.clock.sleeps

    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_backoff_grows_between_attempts(self, harness: Harness, fake: FakeVendor) -> None:
        """Without retry-after the waits double: 0.5, 1, 2, 4 (jitter off)."""
        policy = Retry(attempts=5, initial=0.5, maximum=30.0, jitter=False)
        client = harness.client(["anthropic"], retry=policy)
        fake.fail(Fault.overloaded(), times=None)
        with pytest.raises(RoutesExhaustedError):
            harness.call(client)
        assert [0.5, 1.0, 2.0, 4.0] == harness.clock.sleeps

    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_jittered_waits_are_bounded_and_vary(self, harness: Harness, fake: FakeVendor) -> None:
        """Jitter spreads a fleet's retries, yet no wait exceeds its exponential ceiling."""
        policy = Retry(attempts=6, initial=1.0, maximum=4.0, jitter=True)
        # A circuit that never opens: this test is about waits, not about skipping.
        client = harness.client(
            ["anthropic"], retry=policy, seed=1234, circuit=Circuit(failures=100)
        )
        fake.fail(Fault.server_error(502), times=None)
        for _ in range(4):
            with pytest.raises(RoutesExhaustedError):
                harness.call(client, fallback=None)
        ceilings = [1.0, 2.0, 4.0, 4.0, 4.0] * 4
        assert 20 == len(harness.clock.sleeps)
        assert all(0.0 <= w <= c for w, c in zip(harness.clock.sleeps, ceilings, strict=True))
        assert len(set(harness.clock.sleeps)) > 10

    @pytest.mark.parametrize("mode", ["sync"])
    def test_no_wait_after_the_last_attempt(self, harness: Harness, fake: FakeVendor) -> None:
        """The client never sleeps after its final try: the error surfaces at once."""
        client = harness.client(["anthropic", "openai"], retry=Retry(attempts=2))
        fake.fail(Fault.server_error(500), times=None)
        with pytest.raises(RoutesExhaustedError):
            harness.call(client)
        assert 2 == len(harness.clock.sleeps)  # one per route, between its two attempts


class TestPolicyPrecedence:
    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_call_beats_route_beats_client(self, harness: Harness, fake: FakeVendor) -> None:
        """retry= on the call overrides the route's, which overrides the client's."""
        sink = MemorySink()
        route = harness.route("anthropic", retry=Retry(attempts=2))
        client = harness.client(
            [route], sink=sink, retry=Retry(attempts=4), circuit=Circuit(failures=100)
        )
        fake.fail(Fault.server_error(503), times=None)
        for override, expected in ((None, 2), (Retry(attempts=3), 3), (Retry(attempts=1), 1)):
            fake.reset()
            fake.fail(Fault.server_error(503), times=None)
            reply = harness.call(client, retry=override, fallback=lambda: "legacy")
            assert expected == len(reply.attempts) == len(fake.requests)

    @pytest.mark.parametrize("mode", ["sync"])
    def test_client_policy_applies_without_route_policy(
        self, harness: Harness, fake: FakeVendor
    ) -> None:
        """A route without its own Retry uses the client's."""
        client = harness.client(["openai"], retry=Retry(attempts=4))
        fake.fail(Fault.timeout(), times=None)
        reply = harness.call(client, fallback=lambda: "legacy")
        assert 4 == len(reply.attempts) == len(fake.requests)


class TestClassify:
    """The one classifier both vendors' errors go through."""

    @pytest.mark.parametrize("sdk", ["anthropic", "openai"])
    @pytest.mark.parametrize(
        ("status", "retryable", "reroutable"),
        [
            pytest.param(408, True, True, id="408"),
            pytest.param(409, True, True, id="409"),
            pytest.param(429, True, True, id="429"),
            pytest.param(500, True, True, id="500"),
            pytest.param(529, True, True, id="529"),
            pytest.param(599, True, True, id="other-5xx"),
            pytest.param(400, False, False, id="400"),
            pytest.param(422, False, False, id="422"),
            pytest.param(401, False, True, id="401"),
            pytest.param(403, False, True, id="403"),
            pytest.param(404, False, True, id="404"),
            pytest.param(413, False, True, id="413"),
            pytest.param(418, False, False, id="other-4xx"),
        ],
    )
    def test_status_decides_retry_and_reroute(
        self, sdk: str, status: int, retryable: bool, reroutable: bool
    ) -> None:
        """Retry only what can get better by waiting; reroute what another route may fix."""
        failure = classify(_status_error(sdk, status))
        assert failure is not None
        assert (status, retryable, reroutable) == (
            failure.status,
            failure.retryable,
            failure.reroutable,
        )

    @pytest.mark.parametrize(
        ("body", "error_type"),
        [
            pytest.param(
                {"type": "error", "error": {"type": "overloaded_error"}}, "overloaded_error", id="a"
            ),
            pytest.param({"error": {"code": "rate_limit_exceeded"}}, "rate_limit_exceeded", id="o"),
            pytest.param(None, "http_503", id="no-body"),
        ],
    )
    def test_error_type_comes_from_the_vendor_body(self, body: object, error_type: str) -> None:
        """Attempts record the vendor's own error type, or http_<status> without one."""
        failure = classify(_status_error("anthropic", 503, body=body))
        assert failure is not None
        assert error_type == failure.error_type

    @pytest.mark.parametrize(
        "message",
        [
            pytest.param("prompt is too long: 215000 tokens > 200000 maximum", id="anthropic"),
            pytest.param("This model's maximum context length is 128000 tokens", id="openai"),
        ],
    )
    def test_context_too_long_400_moves_to_another_route(self, message: str) -> None:
        """A 400 that says the prompt is too big may fit a larger model: reroute, no retry."""
        exc = _status_error("openai", 400)
        exc.message = message  # type: ignore[attr-defined]
        failure = classify(exc)
        assert failure is not None
        assert (False, True) == (failure.retryable, failure.reroutable)

    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            pytest.param({"retry-after": "3"}, 3.0, id="seconds"),
            pytest.param({"retry-after": "2.5"}, 2.5, id="fraction"),
            pytest.param({"retry-after-ms": "750"}, 0.75, id="ms"),
            pytest.param({"retry-after-ms": "750", "retry-after": "9"}, 0.75, id="ms-first"),
            pytest.param({"retry-after-ms": "soon", "retry-after": "9"}, 9.0, id="bad-ms"),
            pytest.param({"retry-after": "-4"}, 0.0, id="negative"),
            pytest.param({"retry-after": "whenever"}, None, id="garbage"),
            pytest.param({}, None, id="absent"),
        ],
    )
    def test_retry_after_headers(self, headers: dict[str, str], expected: float | None) -> None:
        """retry-after-ms is preferred; seconds accepted; unreadable values are ignored."""
        failure = classify(_status_error("anthropic", 429, headers=headers))
        assert failure is not None
        assert expected == failure.retry_after

    def test_retry_after_http_date(self) -> None:
        """An HTTP-date retry-after becomes the seconds until that moment."""
        when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
        failure = classify(_status_error("openai", 429, headers={"retry-after": when}))
        assert failure is not None
        assert failure.retry_after is not None
        assert 100.0 < failure.retry_after <= 120.0

    @pytest.mark.parametrize(
        ("status", "header", "retryable"),
        [
            pytest.param(500, "false", False, id="500-no"),
            pytest.param(401, "true", True, id="401-yes"),
            pytest.param(429, "maybe", True, id="unclear-ignored"),
        ],
    )
    def test_x_should_retry_header_is_obeyed(
        self, status: int, header: str, retryable: bool
    ) -> None:
        """The vendor's explicit x-should-retry wins (as in both SDKs); rerouting stays open."""
        failure = classify(_status_error("anthropic", status, headers={"x-should-retry": header}))
        assert failure is not None
        assert (retryable, True) == (failure.retryable, failure.reroutable)

    def test_x_should_retry_never_retries_a_bad_request(self) -> None:
        """A 400 stays final even if a proxy adds x-should-retry: true."""
        failure = classify(_status_error("openai", 400, headers={"x-should-retry": "true"}))
        assert failure is not None
        assert (False, False) == (failure.retryable, failure.reroutable)

    @pytest.mark.parametrize(
        ("exc", "error_type", "retryable"),
        [
            pytest.param(anthropic.APITimeoutError(_REQUEST), "timeout", True, id="a-timeout"),
            pytest.param(openai.APITimeoutError(_REQUEST), "timeout", True, id="o-timeout"),
            pytest.param(
                anthropic.APIConnectionError(request=_REQUEST),
                "connection_error",
                True,
                id="a-conn",
            ),
            pytest.param(
                httpx2.RemoteProtocolError("cut", request=_REQUEST),
                "connection_error",
                True,
                id="httpx2-cut",
            ),
            pytest.param(
                json.JSONDecodeError("Unterminated string", '{"id": "t', 7),
                "malformed_response",
                False,
                id="json",
            ),
            pytest.param(EmptyStreamError("no events"), "malformed_response", False, id="empty"),
        ],
    )
    def test_transport_failures(self, exc: Exception, error_type: str, retryable: bool) -> None:
        """Timeouts and dropped connections retry; a malformed body moves to the next route."""
        failure = classify(exc)
        assert failure is not None
        assert (None, error_type, retryable, True) == (
            failure.status,
            failure.error_type,
            failure.retryable,
            failure.reroutable,
        )

    @pytest.mark.parametrize(
        "exc",
        [
            pytest.param(KeyError("x"), id="keyerror"),
            pytest.param(ValueError("bug"), id="valueerror"),
            pytest.param(RuntimeError("bug"), id="runtime"),
        ],
    )
    def test_bugs_are_not_vendor_failures(self, exc: Exception) -> None:
        """A bug in the calling code is never retried or rerouted: it is not classified."""
        assert classify(exc) is None
