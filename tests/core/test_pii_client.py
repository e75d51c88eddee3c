"""PII policies that steer the call: RouteTo keeps PII on compliant routes, Block stops it."""

from __future__ import annotations

import json

import pytest

from thinllm import (
    Client,
    ConfigurationError,
    PIIBlockedError,
    Prompt,
    Route,
    RoutesExhaustedError,
    user,
)
from thinllm.pii import Block, RouteTo
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

EMAIL = "jane.doe@example.com"


def client(fake: FakeVendor, sink: MemorySink, pii: object) -> Client:
    return Client(
        [
            Route(fake.openai(), model="gpt-6.1-terra", name="global"),
            Route(fake.anthropic(), model="claude-sonnet-5-5", name="eu", region="eu-central-1",
                  defaults={"max_tokens": 16}),
        ],
        sinks=[sink],
        pii=pii,  # type: ignore[arg-type]
        sleep=lambda _: None,
    )


class TestRouteTo:
    def test_pii_goes_only_to_the_named_route(self, fake: FakeVendor, sink: MemorySink) -> None:
        """A prompt with PII skips the global route and is answered by the EU route, recorded with its region."""
        reply = client(fake, sink, RouteTo("eu")).complete(Prompt(messages=[user(f"Mail {EMAIL}")]))
        assert (reply.route, reply.outcome) == ("eu", "rerouted")
        assert [r.vendor for r in fake.requests] == ["anthropic"]
        assert reply.attempts[0].skipped == "pii route policy"
        event = sink.events[0]
        assert (event.region, event.pii, event.pii_action) == ("eu-central-1", {"EMAIL": 1}, "route")
        assert EMAIL not in event.to_json()

    def test_no_pii_uses_the_primary(self, fake: FakeVendor, sink: MemorySink) -> None:
        """Without PII the normal route order applies."""
        reply = client(fake, sink, RouteTo("eu")).complete(Prompt(messages=[user("hello")]), max_tokens=8)
        assert reply.route == "global"

    def test_never_falls_back_to_a_non_compliant_route(self, fake: FakeVendor, sink: MemorySink) -> None:
        """When the compliant route fails, the call fails instead of leaking to the global route."""
        fake.fail(Fault.overloaded(), times=None, vendor="anthropic")
        with pytest.raises(RoutesExhaustedError, match="PII policy"):
            client(fake, sink, RouteTo("eu")).complete(Prompt(messages=[user(f"Mail {EMAIL}")]))
        assert {r.vendor for r in fake.requests} == {"anthropic"}

    def test_unknown_route_name_is_a_configuration_error(self, fake: FakeVendor, sink: MemorySink) -> None:
        """RouteTo naming a route the client lacks fails at construction."""
        with pytest.raises(ConfigurationError, match="us-gov"):
            client(fake, sink, RouteTo("us-gov"))


class TestBlock:
    def test_block_refuses_before_contacting_the_vendor(self, fake: FakeVendor, sink: MemorySink) -> None:
        """Block raises PIIBlockedError, sends nothing, and records counts but never the value."""
        with pytest.raises(PIIBlockedError, match="EMAIL"):
            client(fake, sink, Block()).complete(Prompt(messages=[user(f"Mail {EMAIL}")]), max_tokens=8)
        assert fake.requests == []
        event = sink.events[0]
        assert (event.outcome, event.error["type"], event.pii) == ("blocked", "pii_blocked", {"EMAIL": 1})
        assert EMAIL not in json.dumps(event.to_dict())

    def test_block_with_fallback(self, fake: FakeVendor, sink: MemorySink) -> None:
        """A fallback takes over a blocked call (outcome stays blocked)."""
        reply = client(fake, sink, Block()).complete(
            Prompt(messages=[user(f"Mail {EMAIL}")]), max_tokens=8, fallback=lambda: "manual review"
        )
        assert (reply.outcome, reply.value) == ("blocked", "manual review")
