"""Scripted replies reach the official SDKs as their own response types."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import anthropic
import openai
import pytest

from thinllm.testing import FakeReply, FakeRequest, FakeVendor

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"

USER: Any = [{"role": "user", "content": "Hello there"}]
TOOL = FakeReply(tool_calls=[{"name": "lookup", "arguments": {"id": 1}}])
OPENAI_TOOL: Any = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}


class TestTextReplies:
    def test_default_reply_when_nothing_is_scripted(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """An unscripted fake still answers, so a smoke test needs no setup."""
        message = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        assert message.content[0].type == "text"
        assert message.content[0].text == "This is a reply from the fake vendor."
        assert message.stop_reason == "end_turn"

    def test_anthropic_message(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """Anthropic's Message carries the scripted text, the model and counted usage."""
        vendor.reply("positive")
        message = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        assert isinstance(message, anthropic.types.Message)
        assert message.content[0].type == "text"
        assert message.content[0].text == "positive"
        assert message.model == CLAUDE
        assert message.id.startswith("msg_")
        assert message.usage.input_tokens == 3  # "Hello there" = 11 bytes
        assert message.usage.output_tokens == 2  # "positive" = 8 bytes

    def test_chat_completion(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """OpenAI's ChatCompletion carries the scripted text and a full usage block."""
        vendor.reply("positive")
        completion = gpt.chat.completions.create(model=GPT, messages=USER)
        assert completion.choices[0].message.content == "positive"
        assert completion.choices[0].finish_reason == "stop"
        assert completion.usage is not None
        assert completion.usage.prompt_tokens == 3
        assert completion.usage.total_tokens == 5
        assert completion.usage.prompt_tokens_details is not None
        assert completion.usage.prompt_tokens_details.cached_tokens == 0

    def test_responses_output_text(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """The Responses SDK's output_text convenience returns the scripted text."""
        vendor.reply("positive")
        response = gpt.responses.create(model=GPT, input="Hello there", instructions="Be brief")
        assert response.output_text == "positive"
        assert response.status == "completed"
        assert response.usage is not None
        assert response.usage.input_tokens == 5  # 3 + "Be brief" 2
        assert response.usage.output_tokens == 2

    def test_async_clients(self, vendor: FakeVendor) -> None:
        """Async clients of both SDKs get the same scripted replies."""
        vendor.reply("async ok")

        async def run() -> tuple[str, str | None, str]:
            aclaude = vendor.async_anthropic(max_retries=0)
            agpt = vendor.async_openai(max_retries=0)
            try:
                message = await aclaude.messages.create(model=CLAUDE, max_tokens=8, messages=USER)
                chat = await agpt.chat.completions.create(model=GPT, messages=USER)
                response = await agpt.responses.create(model=GPT, input="hi")
            finally:
                await aclaude.close()
                await agpt.close()
            block = message.content[0]
            assert block.type == "text"
            return block.text, chat.choices[0].message.content, response.output_text

        assert asyncio.run(run()) == ("async ok", "async ok", "async ok")


class TestScripting:
    def test_per_model_reply_beats_default(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A reply scripted for one model does not leak to other models."""
        vendor.reply("default")
        vendor.reply("terra", model=GPT)
        assert gpt.responses.create(model=GPT, input="x").output_text == "terra"
        assert gpt.responses.create(model="gpt-other", input="x").output_text == "default"

    def test_one_shot_replies_come_first_in_order(
        self, vendor: FakeVendor, gpt: openai.OpenAI
    ) -> None:
        """Replies with times= answer the next calls in order, then the standing reply resumes."""
        vendor.reply("standing")
        vendor.reply("first", times=1)
        vendor.reply("second", times=1)
        texts = [gpt.responses.create(model=GPT, input="x").output_text for _ in range(3)]
        assert texts == ["first", "second", "standing"]

    def test_callable_sees_the_request(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """A reply callable receives the FakeRequest and can answer from its content."""
        seen: list[FakeRequest] = []

        def echo(request: FakeRequest) -> str:
            seen.append(request)
            return request.text.upper()

        vendor.reply(echo)
        message = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        assert message.content[0].type == "text"
        assert message.content[0].text == "HELLO THERE"
        assert seen[0].model == CLAUDE

    def test_vendor_filter(self, vendor: FakeVendor, claude: anthropic.Anthropic,
                           gpt: openai.OpenAI) -> None:  # fmt: skip
        """A reply scripted for one vendor answers only that vendor's SDK."""
        vendor.reply("from openai", vendor="openai")
        vendor.reply("from anthropic", vendor="anthropic")
        message = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        assert message.content[0].type == "text"
        assert message.content[0].text == "from anthropic"
        assert gpt.responses.create(model=GPT, input="x").output_text == "from openai"

    def test_times_must_be_positive(self, vendor: FakeVendor) -> None:
        """A zero times= is refused instead of silently scripting nothing."""
        with pytest.raises(ValueError, match="times"):
            vendor.reply("x", times=0)

    def test_callable_returning_wrong_type_is_reported(
        self, vendor: FakeVendor, gpt: openai.OpenAI
    ) -> None:
        """A reply callable that returns neither str nor FakeReply fails loudly."""
        vendor.reply(lambda request: 42)  # type: ignore[arg-type,return-value]
        with pytest.raises(TypeError, match="str or FakeReply"):
            gpt.responses.create(model=GPT, input="x")

    def test_reset_forgets_scripts_and_log(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """reset() returns the fake to its unscripted state with an empty log."""
        vendor.reply("scripted")
        gpt.responses.create(model=GPT, input="x")
        vendor.reset()
        assert vendor.requests == []
        assert gpt.responses.create(model=GPT, input="x").output_text != "scripted"


class TestToolCalls:
    def test_anthropic_tool_use(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """A scripted tool call arrives as a tool_use block with stop_reason tool_use."""
        vendor.reply(TOOL)
        message = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        block = message.content[0]
        assert block.type == "tool_use"
        assert (block.name, block.input) == ("lookup", {"id": 1})
        assert block.id.startswith("toolu_")
        assert message.stop_reason == "tool_use"

    def test_chat_tool_calls(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A scripted tool call arrives as a function tool call with JSON-string arguments."""
        vendor.reply(TOOL)
        completion = gpt.chat.completions.create(model=GPT, messages=USER, tools=[OPENAI_TOOL])
        choice = completion.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        assert choice.message.tool_calls is not None
        call = choice.message.tool_calls[0]
        assert call.type == "function"
        assert (call.function.name, json.loads(call.function.arguments)) == ("lookup", {"id": 1})

    def test_responses_function_call(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A scripted tool call arrives as a function_call output item."""
        vendor.reply(TOOL)
        response = gpt.responses.create(model=GPT, input="x")
        item = response.output[0]
        assert item.type == "function_call"
        assert (item.name, json.loads(item.arguments)) == ("lookup", {"id": 1})
        assert response.output_text == ""

    def test_explicit_tool_call_id_is_kept(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A tool call id given in the script is the id the SDK sees."""
        vendor.reply(FakeReply(tool_calls=[{"id": "call_1", "name": "f", "arguments": {}}]))
        completion = gpt.chat.completions.create(model=GPT, messages=USER)
        assert completion.choices[0].message.tool_calls is not None
        assert completion.choices[0].message.tool_calls[0].id == "call_1"


class TestStructuredOutput:
    SCHEMA: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "urgent": {"type": "boolean"},
            "kind": {"enum": ["bug", "question"]},
        },
        "required": ["label", "score", "tags", "urgent", "kind"],
    }
    MINIMAL: ClassVar[dict[str, Any]] = {
        "label": "x",
        "score": 0,
        "tags": [],
        "urgent": False,
        "kind": "bug",
    }

    def test_anthropic_unscripted_gets_minimal_json(self, claude: anthropic.Anthropic) -> None:
        """An unscripted structured request gets JSON valid for its schema."""
        message = claude.messages.create(
            model=CLAUDE,
            max_tokens=256,
            messages=USER,
            output_config={"format": {"type": "json_schema", "schema": self.SCHEMA}},
        )
        assert message.content[0].type == "text"
        assert json.loads(message.content[0].text) == self.MINIMAL

    def test_chat_unscripted_gets_minimal_json(self, gpt: openai.OpenAI) -> None:
        """Chat response_format json_schema gets a minimal valid object."""
        completion = gpt.chat.completions.create(
            model=GPT,
            messages=USER,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "triage", "schema": self.SCHEMA},
            },
        )
        assert json.loads(completion.choices[0].message.content or "") == self.MINIMAL

    def test_responses_unscripted_gets_minimal_json(self, gpt: openai.OpenAI) -> None:
        """Responses text.format json_schema gets a minimal valid object."""
        response = gpt.responses.create(
            model=GPT,
            input="x",
            text={"format": {"type": "json_schema", "name": "triage", "schema": self.SCHEMA}},
        )
        assert json.loads(response.output_text) == self.MINIMAL

    def test_scripted_json_wins(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A scripted reply is returned as is for a structured request."""
        vendor.reply('{"label": "billing"}')
        completion = gpt.chat.completions.create(
            model=GPT, messages=USER, response_format={"type": "json_object"}
        )
        assert json.loads(completion.choices[0].message.content or "") == {"label": "billing"}


class TestOutputLimit:
    def test_anthropic_max_tokens_truncates(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """A reply longer than max_tokens is cut and reported as stop_reason max_tokens."""
        vendor.reply("abcd" * 10)
        message = claude.messages.create(model=CLAUDE, max_tokens=2, messages=USER)
        assert message.content[0].type == "text"
        assert message.content[0].text == "abcdabcd"
        assert message.stop_reason == "max_tokens"

    def test_chat_length_finish(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Chat reports finish_reason length when max_completion_tokens is hit."""
        vendor.reply("abcd" * 10)
        completion = gpt.chat.completions.create(model=GPT, messages=USER, max_completion_tokens=1)
        assert completion.choices[0].finish_reason == "length"

    def test_responses_incomplete(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Responses reports status incomplete with reason max_output_tokens."""
        vendor.reply("abcd" * 100)
        response = gpt.responses.create(model=GPT, input="x", max_output_tokens=16)
        assert response.status == "incomplete"
        assert response.incomplete_details is not None
        assert response.incomplete_details.reason == "max_output_tokens"

    def test_usage_overrides(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """FakeReply token overrides are what the SDK reports."""
        vendor.reply(FakeReply(text="hi", input_tokens=1000, output_tokens=50))
        usage = claude.messages.create(model=CLAUDE, max_tokens=64, messages=USER).usage
        assert (usage.input_tokens, usage.output_tokens) == (1000, 50)
