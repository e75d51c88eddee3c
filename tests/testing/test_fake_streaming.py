"""Streams in each vendor's SSE format, parsed by the SDKs' own stream helpers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from thinllm.testing import FakeReply, FakeVendor, Fault

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"
USER: Any = [{"role": "user", "content": "Hello there"}]
TEXT = "Hello there my friend"
TOOL = FakeReply(tool_calls=[{"name": "lookup", "arguments": {"id": 1, "q": "a long query"}}])


def _collect_chat(client: openai.OpenAI, into: list[str]) -> None:
    """Consume a streamed chat completion, keeping each content delta as it arrives."""
    for chunk in client.chat.completions.create(model=GPT, messages=USER, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            into.append(chunk.choices[0].delta.content)


class TestAnthropicStream:
    def test_text_stream(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """messages.stream() yields the reply in deltas and a final Message with usage."""
        vendor.reply(TEXT)
        with claude.messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream:
            deltas = list(stream.text_stream)
            final = stream.get_final_message()
        assert deltas == ["Hello ", "there ", "my ", "friend"]
        assert final.stop_reason == "end_turn"
        assert (final.usage.input_tokens, final.usage.output_tokens) == (3, 6)

    def test_raw_event_order(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """stream=True yields the real event sequence from message_start to message_stop."""
        vendor.reply("Hi")
        events = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER, stream=True)
        kinds = [event.type for event in events]
        assert kinds == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]

    def test_tool_use_stream(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """Tool input streams as input_json_delta and accumulates into the tool_use input."""
        vendor.reply(TOOL)
        with claude.messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream:
            final = stream.get_final_message()
        block = final.content[0]
        assert block.type == "tool_use"
        assert block.input == {"id": 1, "q": "a long query"}
        assert final.stop_reason == "tool_use"

    def test_async_stream(self, vendor: FakeVendor) -> None:
        """The async client streams the same deltas."""
        vendor.reply(TEXT)

        async def run() -> str:
            client = vendor.async_anthropic(max_retries=0)
            try:
                async with client.messages.stream(
                    model=CLAUDE, max_tokens=64, messages=USER
                ) as stream:
                    return "".join([t async for t in stream.text_stream])
            finally:
                await client.close()

        assert asyncio.run(run()) == TEXT

    def test_stream_cut(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """A cut stream delivers n deltas, then the connection error the SDK raises on a real cut."""
        vendor.reply(TEXT)
        vendor.fail(Fault.stream_cut(after_chunks=2))
        received: list[str] = []
        with (
            pytest.raises(httpx2.RemoteProtocolError),
            claude.messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream,
        ):
            received.extend(stream.text_stream)
        assert received == ["Hello ", "there "]


class TestChatStream:
    def test_chunks_and_usage(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Chat chunks carry the deltas, and include_usage adds a final usage chunk."""
        vendor.reply(TEXT)
        chunks = list(
            gpt.chat.completions.create(
                model=GPT, messages=USER, stream=True, stream_options={"include_usage": True}
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == TEXT
        assert [c for c in chunks if c.choices][-1].choices[0].finish_reason == "stop"
        assert chunks[-1].usage is not None
        assert chunks[-1].usage.prompt_tokens == 3

    def test_no_usage_chunk_unless_asked(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Without include_usage no chunk carries usage, as with the real API."""
        chunks = list(gpt.chat.completions.create(model=GPT, messages=USER, stream=True))
        assert all(c.usage is None for c in chunks)

    def test_stream_helper_with_tool_calls(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """chat.completions.stream() accumulates tool-call deltas into a complete call."""
        vendor.reply(TOOL)
        with gpt.chat.completions.stream(model=GPT, messages=USER) as stream:
            for _ in stream:
                pass
            final = stream.get_final_completion()
        calls = final.choices[0].message.tool_calls
        assert calls is not None
        assert json.loads(calls[0].function.arguments) == {"id": 1, "q": "a long query"}
        assert final.choices[0].finish_reason == "tool_calls"

    def test_stream_cut(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A cut chat stream raises APIConnectionError after n content deltas."""
        vendor.reply(TEXT)
        vendor.fail(Fault.stream_cut(after_chunks=1))
        received: list[str] = []
        with pytest.raises(openai.APIConnectionError):
            _collect_chat(gpt, received)
        assert received == ["Hello "]

    def test_async_stream(self, vendor: FakeVendor) -> None:
        """The async client streams the same chunks."""
        vendor.reply(TEXT)

        async def run() -> str:
            client = vendor.async_openai(max_retries=0)
            try:
                stream = await client.chat.completions.create(model=GPT, messages=USER, stream=True)
                return "".join([c.choices[0].delta.content or "" async for c in stream])
            finally:
                await client.close()

        assert asyncio.run(run()) == TEXT


class TestResponsesStream:
    def test_events_and_final_response(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """responses.stream() yields text deltas and a completed Response with usage."""
        vendor.reply(TEXT)
        with gpt.responses.stream(model=GPT, input="Hello there") as stream:
            kinds = [event.type for event in stream]
            final = stream.get_final_response()
        assert kinds[0] == "response.created"
        assert kinds[-1] == "response.completed"
        assert kinds.count("response.output_text.delta") == 4
        assert final.output_text == TEXT
        assert final.usage is not None
        assert final.usage.input_tokens == 3

    def test_function_call_stream(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Function-call argument deltas accumulate into the final function_call item."""
        vendor.reply(TOOL)
        with gpt.responses.stream(model=GPT, input="x") as stream:
            final = stream.get_final_response()
        item = final.output[0]
        assert item.type == "function_call"
        assert json.loads(item.arguments) == {"id": 1, "q": "a long query"}

    def test_async_raw_stream(self, vendor: FakeVendor) -> None:
        """stream=True on the async client yields the delta events."""
        vendor.reply(TEXT)

        async def run() -> str:
            client = vendor.async_openai(max_retries=0)
            try:
                stream = await client.responses.create(model=GPT, input="x", stream=True)
                return "".join(
                    [e.delta async for e in stream if e.type == "response.output_text.delta"]
                )
            finally:
                await client.close()

        assert asyncio.run(run()) == TEXT
