"""Streaming: deltas as they arrive, one audit event when the stream ends or is left."""

from __future__ import annotations

import asyncio

import pytest

from thinllm import Client, Prompt, Retry, Route, StreamInterruptedError, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

APIS = [
    pytest.param("messages", id="anthropic"),
    pytest.param("chat", id="chat"),
    pytest.param("responses", id="responses"),
]


def route(fake: FakeVendor, api: str, *, aio: bool = False) -> Route:
    if api == "messages":
        return Route(fake.async_anthropic() if aio else fake.anthropic(), model="claude-sonnet-5-5")
    return Route(fake.async_openai() if aio else fake.openai(), model="gpt-6.1-terra", api=api)


PROMPT = Prompt("Answer in one sentence.", messages=[user("Tell me about refunds")])
LONG = "Refunds take five to seven working days once the item is back with us."


def no_sleep(_: float) -> None:
    return None


class TestStream:
    @pytest.mark.parametrize("api", APIS)
    def test_deltas_join_to_the_reply_and_one_event(
        self, fake: FakeVendor, sink: MemorySink, api: str
    ) -> None:
        """Iterating yields text deltas; s.reply has the full text, usage and cost; one event is stored."""
        fake.reply(LONG)
        client = Client([route(fake, api)], sinks=[sink])
        with client.stream(PROMPT, max_tokens=64) as s:
            deltas = list(s)
        assert len(deltas) > 1 and "".join(deltas) == LONG == s.reply.text
        assert s.reply.usage.output_tokens > 0 and s.reply.cost is not None
        assert [(e.outcome, e.stream, e.usage["output_tokens"] > 0) for e in sink.events] == [
            ("ok", True, True)
        ]

    @pytest.mark.parametrize("api", APIS)
    def test_async_stream(self, fake: FakeVendor, sink: MemorySink, api: str) -> None:
        """astream mirrors stream for async clients."""
        fake.reply(LONG)
        client = Client([route(fake, api, aio=True)], sinks=[sink])

        async def main() -> tuple[str, str]:
            async with client.astream(PROMPT, max_tokens=64) as s:
                text = "".join([d async for d in s])
            return text, s.reply.text

        assert asyncio.run(main()) == (LONG, LONG)
        assert len(sink.events) == 1

    @pytest.mark.parametrize("api", APIS)
    def test_abandoned_stream_is_recorded(
        self, fake: FakeVendor, sink: MemorySink, api: str
    ) -> None:
        """Breaking out early closes the vendor stream and records what was received."""
        fake.reply(LONG)
        client = Client([route(fake, api)], sinks=[sink])
        with client.stream(PROMPT, max_tokens=64) as s:
            first = next(iter(s))
        assert s.reply.text == first and s.reply.finish_reason == "abandoned"
        assert [e.finish_reason for e in sink.events] == ["abandoned"]

    def test_failure_before_first_token_is_retried(
        self, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """A 529 before any text is retried like a normal call; the caller sees one clean stream."""
        fake.reply(LONG)
        fake.fail(Fault.overloaded(), times=1)
        client = Client([route(fake, "messages")], sinks=[sink], sleep=no_sleep)
        with client.stream(PROMPT, max_tokens=64) as s:
            assert "".join(s) == LONG
        assert [a.status for a in s.reply.attempts] == [529, 200]
        assert len(fake.requests) == 2

    def test_failure_after_tokens_is_surfaced_not_restarted(
        self, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """A stream cut after text reached the caller raises StreamInterruptedError with the text so far."""
        fake.reply(LONG)
        fake.fail(Fault.stream_cut(after_chunks=2), times=1)
        client = Client(
            [route(fake, "chat")], sinks=[sink], sleep=no_sleep, retry=Retry(attempts=3)
        )
        received: list[str] = []
        with (
            pytest.raises(StreamInterruptedError) as info,
            client.stream(PROMPT, max_tokens=64) as s,
        ):
            received.extend(s)
        assert info.value.received == "".join(received) != ""
        assert len(fake.requests) == 1
        assert [(e.outcome, e.error["type"]) for e in sink.events] == [
            ("error", "stream_interrupted")
        ]
