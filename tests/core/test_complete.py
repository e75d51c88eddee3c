"""A governed call end to end through the real SDKs and the fake vendor."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pydantic
import pytest

from thinllm import (
    CallEvent,
    Client,
    MissingTagsError,
    OutputValidationError,
    Prompt,
    Retry,
    Route,
    Tags,
    Tool,
    tags,
    user,
)
from thinllm.sinks import MemorySink
from thinllm.testing import FakeReply, FakeVendor, Fault

POLICY = "Refunds are allowed within 30 days of purchase. " * 120


def triage(ticket: str = "My parcel never arrived") -> Prompt:
    return Prompt(
        "You triage support tickets. Answer with one label.",
        context=[POLICY],
        messages=[user(ticket)],
    )


def no_sleep(_: float) -> None:
    return None


class TestComplete:
    def test_reply_has_the_contract_fields(self, fake: FakeVendor, sink: MemorySink) -> None:
        """A plain call returns text, usage, cost, route, outcome, attempts, call_id and the native response."""
        fake.reply("shipping")
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")], sinks=[sink])
        reply = client.complete(triage(), max_tokens=16)
        assert (reply.text, reply.value, reply.route, reply.outcome) == (
            "shipping",
            "shipping",
            "claude-sonnet-5-5",
            "ok",
        )
        assert len(reply.attempts) == 1
        assert reply.attempts[0].ok
        assert type(reply.raw).__module__.startswith("anthropic.types")
        assert isinstance(reply.cost, Decimal)
        assert reply.cost > 0
        assert [reply.call_id] == [e.call_id for e in sink.events]

    def test_second_call_reads_the_cache_and_costs_less(self, fake: FakeVendor) -> None:
        """A stable static prefix is written once and read on the next call, at the cheaper rate."""
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")])
        first = client.complete(triage("one"), max_tokens=16)
        second = client.complete(triage("two"), max_tokens=16)
        assert first.usage.cache_write_tokens > 0 and first.usage.cache_read_tokens == 0
        assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
        assert second.cost is not None and first.cost is not None and second.cost < first.cost

    def test_anthropic_input_tokens_include_cache_counts(self, fake: FakeVendor) -> None:
        """usage.input_tokens counts all input: Anthropic's uncached remainder plus cache reads and writes."""
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")])
        client.complete(triage("one"), max_tokens=16)
        reply = client.complete(triage("two"), max_tokens=16)
        native = reply.raw.usage
        assert reply.usage.input_tokens == (
            native.input_tokens
            + native.cache_read_input_tokens
            + native.cache_creation_input_tokens
        )

    def test_openai_cached_tokens_are_not_double_counted(self, fake: FakeVendor) -> None:
        """OpenAI's prompt_tokens already includes cached tokens; thinllm keeps it as is."""
        client = Client([Route(fake.openai(), model="gpt-6.1-terra")])
        client.complete(triage("one"), max_tokens=16)
        reply = client.complete(triage("two"), max_tokens=16)
        native = reply.raw.usage
        assert reply.usage.input_tokens == native.prompt_tokens
        assert reply.usage.cache_read_tokens == native.prompt_tokens_details.cached_tokens > 0

    def test_async_complete(self, fake: FakeVendor, sink: MemorySink) -> None:
        """acomplete works on async vendor clients, one event per call."""
        fake.reply("billing")
        client = Client([Route(fake.async_openai(), model="gpt-6.1-terra")], sinks=[sink])

        async def main() -> list[str]:
            replies = await asyncio.gather(
                *(client.acomplete(triage(str(i)), max_tokens=8) for i in range(5))
            )
            return [r.text for r in replies]

        assert asyncio.run(main()) == ["billing"] * 5
        assert len(sink.events) == 5

    def test_sync_call_on_async_route_says_what_to_do(self, fake: FakeVendor) -> None:
        """Calling complete() with an AsyncOpenAI route points at acomplete()."""
        client = Client([Route(fake.async_openai(), model="gpt-6.1-terra")])
        with pytest.raises(Exception, match="acomplete"):
            client.complete(triage(), max_tokens=8)
        assert fake.requests == []


class TestNoHiddenRetries:
    def test_sdk_retries_are_off_and_users_client_untouched(self, fake: FakeVendor) -> None:
        """With Retry(attempts=1) the vendor sees exactly one request, though the SDK default is 2 retries."""
        vendor_client = fake.anthropic()
        assert vendor_client.max_retries == 2
        fake.fail(Fault.overloaded(), times=5)
        client = Client([Route(vendor_client, model="claude-sonnet-5-5")], retry=Retry(attempts=1))
        with pytest.raises(Exception, match="overloaded"):
            client.complete(triage(), max_tokens=8)
        assert len(fake.requests) == 1
        assert vendor_client.max_retries == 2

    def test_requests_equal_recorded_attempts(self, fake: FakeVendor, sink: MemorySink) -> None:
        """Two 429s then success: three requests, three attempts in the reply and in the event."""
        fake.fail(Fault.rate_limited(retry_after=0.01), times=2)
        client = Client([Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink], sleep=no_sleep)
        reply = client.complete(triage(), max_tokens=8)
        assert 3 == len(fake.requests) == len(reply.attempts) == len(sink.events[0].attempts)
        assert [a.status for a in reply.attempts] == [429, 429, 200]


class TestTags:
    def test_missing_required_tags_block_before_sending(
        self, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """A call without the required tags raises MissingTagsError, sends nothing, and is still audited."""
        client = Client(
            [Route(fake.anthropic(), model="claude-sonnet-5-5")],
            require_tags=("user", "workflow", "cost_center"),
            sinks=[sink],
        )
        with pytest.raises(MissingTagsError, match="workflow, cost_center"):
            client.complete(triage(), tags=Tags(user="alice"), max_tokens=8)
        assert fake.requests == []
        assert [(e.outcome, e.error["type"]) for e in sink.events] == [("blocked", "missing_tags")]

    def test_ambient_tags_merge_under_explicit_ones(
        self, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """with thinllm.tags(...) sets tags for a block; explicit tags= win per key."""
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")], sinks=[sink])
        with tags(user="alice", workflow="triage", cost_center="cs-eu"):
            client.complete(triage(), tags=Tags(workflow="refunds"), max_tokens=8)
        assert sink.events[0].tags == {
            "user": "alice",
            "workflow": "refunds",
            "cost_center": "cs-eu",
        }

    def test_ambient_tags_follow_asyncio_tasks(self, fake: FakeVendor, sink: MemorySink) -> None:
        """Each task keeps its own ambient tags (contextvars semantics)."""
        client = Client([Route(fake.async_anthropic(), model="claude-sonnet-5-5")], sinks=[sink])

        async def handle(name: str) -> None:
            with tags(user=name):
                await asyncio.sleep(0)
                await client.acomplete(triage(name), max_tokens=8)

        async def main() -> None:
            await asyncio.gather(*(handle(n) for n in ("ann", "bob", "cy")))

        asyncio.run(main())
        by_ticket = {json.dumps(e.content["messages"]): e.tags["user"] for e in sink.events}
        assert sorted(by_ticket.values()) == ["ann", "bob", "cy"]
        for ticket, who in by_ticket.items():
            assert who in ticket

    @pytest.mark.parametrize(
        ("send_user", "expected"),
        [
            pytest.param("hash", "hashed", id="hash"),
            pytest.param("plain", "alice", id="plain"),
            pytest.param("none", None, id="none"),
        ],
    )
    def test_user_tag_reaches_vendor_fields(
        self, fake: FakeVendor, send_user: str, expected: str | None
    ) -> None:
        """The user tag goes to metadata.user_id / safety_identifier: hashed by default, or as asked."""
        client = Client(
            [
                Route(fake.anthropic(), model="claude-sonnet-5-5"),
                Route(fake.openai(), model="gpt-6.1-terra"),
            ],
            send_user=send_user,
        )
        client.complete(triage(), tags=Tags(user="alice"), max_tokens=8)
        client.complete(triage(), tags=Tags(user="alice"), max_tokens=8, route="gpt-6.1-terra")
        anthropic_body, openai_body = fake.requests[0].body, fake.requests[1].body
        got = [
            anthropic_body.get("metadata", {}).get("user_id"),
            openai_body.get("safety_identifier"),
        ]
        if expected == "hashed":
            assert (
                got[0] == got[1] and got[0] is not None and got[0] != "alice" and len(got[0]) == 32
            )
        else:
            assert got == [expected, expected]


class Label(pydantic.BaseModel):
    label: str
    confidence: float


class TestStructuredOutput:
    @pytest.mark.parametrize("api", ["messages", "chat", "responses"])
    def test_parsed_output_uses_native_mechanism(self, fake: FakeVendor, api: str) -> None:
        """output=Model sends the vendor's JSON-schema field and returns a validated object."""
        fake.reply('{"label": "shipping", "confidence": 0.9}')
        vendor = fake.anthropic() if api == "messages" else fake.openai()
        model = "claude-sonnet-5-5" if api == "messages" else "gpt-6.1-terra"
        client = Client([Route(vendor, model=model, api=api)])
        reply = client.complete(triage(), output=Label, max_tokens=32)
        assert reply.parsed == Label(label="shipping", confidence=0.9) == reply.value
        body = fake.requests[-1].body
        field = {"messages": "output_config", "chat": "response_format", "responses": "text"}[api]
        assert "json_schema" in json.dumps(body[field])

    def test_invalid_output_raises_with_the_raw_text(
        self, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """A reply that does not validate raises OutputValidationError carrying the text; no silent re-ask."""
        fake.reply("not json at all")
        client = Client([Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink])
        with pytest.raises(OutputValidationError) as info:
            client.complete(triage(), output=Label, max_tokens=32)
        assert info.value.text == "not json at all"
        assert len(fake.requests) == 1
        assert sink.events[0].error["type"] == "output_validation"


class TestTools:
    @pytest.mark.parametrize("api", ["messages", "chat", "responses"])
    def test_tool_calls_come_back_normalized(self, fake: FakeVendor, api: str) -> None:
        """A tool call from any API is a ToolCall with a name and parsed arguments."""
        fake.reply(
            FakeReply(tool_calls=[{"name": "lookup_order", "arguments": {"order_id": "A1"}}])
        )
        vendor = fake.anthropic() if api == "messages" else fake.openai()
        model = "claude-sonnet-5-5" if api == "messages" else "gpt-6.1-terra"
        client = Client([Route(vendor, model=model, api=api)])
        prompt = Prompt(
            messages=["Where is A1?"],
            tools=[
                Tool(
                    "lookup_order",
                    "Find an order",
                    {"type": "object", "properties": {"order_id": {"type": "string"}}},
                )
            ],
        )
        reply = client.complete(prompt, max_tokens=32)
        assert [(c.name, dict(c.arguments)) for c in reply.tool_calls] == [
            ("lookup_order", {"order_id": "A1"})
        ]
        assert reply.tool_calls[0].id


class TestEvents:
    def test_event_is_immutable_and_serialisable(self, fake: FakeVendor, sink: MemorySink) -> None:
        """The stored form has schema thinllm.call/1 and round-trips through JSON."""
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")], sinks=[sink])
        client.complete(triage(), tags=Tags(user="a", workflow="w", cost_center="c"), max_tokens=8)
        event = sink.events[0]
        data = json.loads(event.to_json())
        assert data["schema"] == "thinllm.call/1" == event.schema
        assert CallEvent.from_dict(data) == event
        with pytest.raises(AttributeError):
            event.outcome = "error"  # type: ignore[misc]
        assert data["provider"] == "anthropic" and data["usage"]["input_tokens"] > 0
