"""client.wrap(): the vendor's own methods and types, governed."""

from __future__ import annotations

import asyncio

import pytest

from thinllm import AIDisabledError, Client, MissingTagsError, Route, Tags, tags
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault


def governed(fake: FakeVendor, sink: MemorySink, **kw: object) -> Client:
    return Client([Route(fake.anthropic(), model="claude-sonnet-5-5")], sinks=[sink], **kw)  # type: ignore[arg-type]


class TestWrap:
    def test_anthropic_native_call_is_governed(self, fake: FakeVendor, sink: MemorySink) -> None:
        """messages.create returns the SDK's Message and writes one tagged, priced event."""
        fake.reply("hello")
        wrapped = governed(fake, sink).wrap(fake.anthropic())
        message = wrapped.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
            tags=Tags(user="bob", workflow="notebook"),
        )
        assert type(message).__name__ == "Message" and message.content[0].text == "hello"
        event = sink.events[0]
        assert (event.tags, event.provider, event.outcome) == (
            {"user": "bob", "workflow": "notebook"},
            "anthropic",
            "ok",
        )
        assert event.cost_usd is not None
        assert "tags" not in fake.requests[0].body

    @pytest.mark.parametrize("api", ["chat", "responses"])
    def test_openai_native_calls(self, fake: FakeVendor, sink: MemorySink, api: str) -> None:
        """chat.completions.create and responses.create keep their native return types."""
        fake.reply("hello")
        wrapped = governed(fake, sink).wrap(fake.openai())
        with tags(user="carol"):
            if api == "chat":
                out = wrapped.chat.completions.create(
                    model="gpt-6.1-terra", messages=[{"role": "user", "content": "hi"}]
                )
                assert out.choices[0].message.content == "hello"
            else:
                out = wrapped.responses.create(model="gpt-6.1-terra", input="hi")
                assert out.output_text == "hello"
        assert [e.tags["user"] for e in sink.events] == ["carol"]

    def test_native_stream_is_recorded_when_it_ends(
        self, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """stream=True yields the vendor's own events and records usage at the end."""
        fake.reply("streamed text")
        wrapped = governed(fake, sink).wrap(fake.openai())
        chunks = wrapped.chat.completions.create(
            model="gpt-6.1-terra",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "streamed text"
        assert [(e.stream, e.usage["output_tokens"] > 0) for e in sink.events] == [(True, True)]

    def test_retries_and_sdk_retries_off(self, fake: FakeVendor, sink: MemorySink) -> None:
        """A wrapped call is retried by thinllm; the vendor sees exactly the recorded attempts."""
        fake.fail(Fault.overloaded(), times=1)
        wrapped = governed(fake, sink, sleep=lambda _: None).wrap(fake.anthropic())
        wrapped.messages.create(
            model="claude-sonnet-5-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
        assert len(fake.requests) == 2 == len(sink.events[0].attempts)

    def test_flag_and_required_tags_apply(self, fake: FakeVendor, sink: MemorySink) -> None:
        """The kill switch and required tags stop native calls before the vendor is contacted."""
        wrapped = governed(fake, sink, flag=False).wrap(fake.anthropic())
        with pytest.raises(AIDisabledError):
            wrapped.messages.create(
                model="claude-sonnet-5-5", max_tokens=8, messages=[{"role": "user", "content": "x"}]
            )
        strict = governed(fake, sink, require_tags=("workflow",)).wrap(fake.anthropic())
        with pytest.raises(MissingTagsError):
            strict.messages.create(
                model="claude-sonnet-5-5", max_tokens=8, messages=[{"role": "user", "content": "x"}]
            )
        assert fake.requests == []
        assert [e.outcome for e in sink.events] == ["disabled", "blocked"]

    def test_async_wrap(self, fake: FakeVendor, sink: MemorySink) -> None:
        """Async vendor clients wrap the same way."""
        fake.reply("hi back")
        client = Client([Route(fake.async_anthropic(), model="claude-sonnet-5-5")], sinks=[sink])
        wrapped = client.wrap(fake.async_anthropic())

        async def main() -> str:
            m = await wrapped.messages.create(
                model="claude-sonnet-5-5",
                max_tokens=8,
                messages=[{"role": "user", "content": "hi"}],
            )
            return str(m.content[0].text)

        assert asyncio.run(main()) == "hi back"
        assert len(sink.events) == 1

    def test_other_attributes_pass_through(self, fake: FakeVendor, sink: MemorySink) -> None:
        """Anything not governed is the vendor client's own attribute."""
        vendor = fake.anthropic()
        wrapped = governed(fake, sink).wrap(vendor)
        assert wrapped.models is vendor.models
        assert wrapped.messages.batches is vendor.messages.batches
